// Small helpers shared by the RPC area files: async unary handlers, gRPC errors, admin checks.

import type { ServerUnaryCall, ServiceError, StatusObject, sendUnaryData } from "@grpc/grpc-js";
import { Metadata, status } from "@grpc/grpc-js";
import { remoteHost } from "../../security/guard.js";
import type { ServerContext } from "../context.js";

export type GrpcFailure = Partial<StatusObject> & { code: status; details: string; message: string };

/** An error that reaches the client with this code and message. */
export function failed(code: status, details: string): GrpcFailure {
  return { code, details, message: details, metadata: new Metadata() };
}

function isFailure(e: unknown): e is GrpcFailure {
  return typeof e === "object" && e !== null && "code" in e && "details" in e;
}

/** Any thrown value as a gRPC error: failures keep their code, other errors are UNKNOWN. */
export function toFailure(err: unknown): GrpcFailure {
  return isFailure(err) ? err : failed(status.UNKNOWN, (err as Error)?.message ?? String(err));
}

/** Adapts an async handler; a thrown Error becomes UNKNOWN with its message, as a Go error does. */
export function unary<Req, Res>(
  handler: (call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    handler(call).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toFailure(err) as ServiceError),
    );
  };
}

/** The caller's IP from grpc-js's peer string ("1.2.3.4:5678", "[::1]:5678"). */
export function peerHost(peer: string): string {
  const withoutScheme = peer.replace(/^ipv[46]:/, "");
  const colon = withoutScheme.lastIndexOf(":");
  return remoteHost(colon > 0 ? withoutScheme.slice(0, colon) : withoutScheme);
}

/** Admin RPCs are limited to white-listed callers, as weed's checkGrpcAdminAuth. */
export function checkAdminAuth(ctx: ServerContext, call: { getPeer(): string }): void {
  const host = peerHost(call.getPeer());
  if (!ctx.guard.isWhiteListed(host)) throw failed(status.PERMISSION_DENIED, `not authorized: ${host}`);
}
