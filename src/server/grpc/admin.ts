// Server-level RPCs (volume_grpc_admin.go's area): Ping for now; status and state RPCs follow in
// the cluster issue.

import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { PingRequest, PingResponse, VolumeServerServer } from "../../pb/volume_server.js";
import { PingResponse as PingResponseMessage } from "../../pb/volume_server.js";
import type { ServerContext } from "../context.js";

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export function adminService(_ctx: ServerContext): Partial<VolumeServerServer> {
  return {
    ping(call: ServerUnaryCall<PingRequest, PingResponse>, callback: sendUnaryData<PingResponse>) {
      const response = PingResponseMessage.create({ startTimeNs: nowNs() });
      if (call.request.target !== "") {
        // Pinging other servers needs the peer clients of the cluster issue.
        response.stopTimeNs = nowNs();
        callback({
          code: status.UNIMPLEMENTED,
          details: `ping ${call.request.targetType} ${call.request.target}: not implemented yet`,
        });
        return;
      }
      response.stopTimeNs = nowNs();
      callback(null, response);
    },
  };
}
