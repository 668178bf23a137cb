// Server-level RPCs (weed's volume_grpc_admin.go and volume_grpc_state.go areas): Ping, GetState,
// SetState, VolumeServerStatus, VolumeServerLeave.

import { Metadata, status } from "@grpc/grpc-js";
import { toHttpAddress } from "../../cluster/server-address.js";
import { PingRequest as MasterPingRequest } from "../../pb/master.js";
import {
  GetStateResponse,
  PingResponse,
  SetStateResponse,
  type VolumeServerServer,
  VolumeServerStatusResponse,
} from "../../pb/volume_server.js";
import type { ServerContext } from "../context.js";
import { diskStatuses, memoryStatus } from "../system-status.js";
import { checkAdminAuth, failed, unary } from "./call.js";

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
    ping(call, callback) {
      const { target, targetType } = call.request;
      const response = PingResponse.create({ startTimeNs: nowNs() });
      if (target === "") {
        response.stopTimeNs = nowNs();
        callback(null, response);
        return;
      }
      if (!isKnownPingTarget(ctx, target, targetType)) {
        callback(failed(status.INVALID_ARGUMENT, `unknown ping target ${target} of type ${targetType}`));
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
              callback(failed(status.UNKNOWN, `ping ${targetType} ${target}: ${err.message}`));
              return;
            }
            response.remoteTimeNs = remote.startTimeNs;
            response.stopTimeNs = nowNs();
            callback(null, response);
          },
        );
    },

    getState: unary(async () => GetStateResponse.create({ state: ctx.stateFile.state })),

    setState: unary(async (call) => {
      checkAdminAuth(ctx, call);
      try {
        ctx.stateFile.update(call.request.state);
      } catch (err) {
        throw failed(status.UNKNOWN, (err as Error).message);
      }
      if (call.request.state) ctx.control.announceState();
      return SetStateResponse.create({ state: ctx.stateFile.state });
    }),

    volumeServerStatus: unary(async () =>
      VolumeServerStatusResponse.create({
        state: ctx.stateFile.state,
        memoryStatus: memoryStatus(),
        version: ctx.version,
        dataCenter: ctx.options.dataCenter,
        rack: ctx.options.rack,
        diskStatuses: diskStatuses(ctx.options.folders),
      }),
    ),

    volumeServerLeave: unary(async (call) => {
      checkAdminAuth(ctx, call);
      await ctx.control.leaveCluster();
      return {};
    }),
  };
}
