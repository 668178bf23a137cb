// Server-level RPCs (weed's volume_grpc_admin.go area). Ping for now; status and state RPCs
// follow in the cluster issue.

import { Metadata, type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import { toHttpAddress } from "../../cluster/server-address.js";
import { PingRequest as MasterPingRequest } from "../../pb/master.js";
import { type PingRequest, PingResponse, type VolumeServerServer } from "../../pb/volume_server.js";
import type { ServerContext } from "../context.js";

const MASTER_TYPE = "master";

/** Wall-clock nanoseconds, to the sub-microsecond precision a double allows. */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

/** Only the masters this server heartbeats with may be pinged through it. */
function isKnownPingTarget(ctx: ServerContext, target: string, targetType: string): boolean {
  if (targetType !== MASTER_TYPE) return false;
  const key = toHttpAddress(target);
  if (key === "") return false;
  if (ctx.state.currentMaster !== "" && toHttpAddress(ctx.state.currentMaster) === key) return true;
  return ctx.options.masters.some((m) => toHttpAddress(m) === key);
}

export function adminService(ctx: ServerContext): Partial<VolumeServerServer> {
  return {
    ping(call: ServerUnaryCall<PingRequest, PingResponse>, callback: sendUnaryData<PingResponse>) {
      const { target, targetType } = call.request;
      const response = PingResponse.create({ startTimeNs: nowNs() });
      if (target === "") {
        response.stopTimeNs = nowNs();
        callback(null, response);
        return;
      }
      if (!isKnownPingTarget(ctx, target, targetType)) {
        callback({
          code: status.INVALID_ARGUMENT,
          details: `unknown ping target ${target} of type ${targetType}`,
        });
        return;
      }
      ctx.peers
        .master(target)
        .ping(
          MasterPingRequest.create({}),
          new Metadata(),
          { deadline: Date.now() + 30_000 },
          (err, remote) => {
            if (err) {
              callback({ code: status.UNKNOWN, details: `ping ${targetType} ${target}: ${err.message}` });
              return;
            }
            response.remoteTimeNs = remote.startTimeNs;
            response.stopTimeNs = nowNs();
            callback(null, response);
          },
        );
    },
  };
}
