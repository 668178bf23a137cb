// Error texts as a Go server words them, for messages callers match on: file errors read
// "open <path>: no such file or directory", errors from a peer's RPC read
// "rpc error: code = <Code> desc = <message>".

import { status } from "@grpc/grpc-js";

/** A Node file-system error as Go's *PathError prints it. */
export function goFsError(err: unknown, op: string, path: string): Error {
  const message = (err as Error)?.message ?? String(err);
  // libuv's text after the code ("ENOENT: no such file or directory, open '/x'") is strerror's.
  const reason = /^[A-Z0-9]+: ([^,]+)/.exec(message)?.[1] ?? message;
  return new Error(`${op} ${path}: ${reason}`);
}

const CODE_NAMES: Record<number, string> = {
  [status.OK]: "OK",
  [status.CANCELLED]: "Canceled",
  [status.UNKNOWN]: "Unknown",
  [status.INVALID_ARGUMENT]: "InvalidArgument",
  [status.DEADLINE_EXCEEDED]: "DeadlineExceeded",
  [status.NOT_FOUND]: "NotFound",
  [status.ALREADY_EXISTS]: "AlreadyExists",
  [status.PERMISSION_DENIED]: "PermissionDenied",
  [status.RESOURCE_EXHAUSTED]: "ResourceExhausted",
  [status.FAILED_PRECONDITION]: "FailedPrecondition",
  [status.ABORTED]: "Aborted",
  [status.OUT_OF_RANGE]: "OutOfRange",
  [status.UNIMPLEMENTED]: "Unimplemented",
  [status.INTERNAL]: "Internal",
  [status.UNAVAILABLE]: "Unavailable",
  [status.DATA_LOSS]: "DataLoss",
  [status.UNAUTHENTICATED]: "Unauthenticated",
};

/** A grpc-js client error ("2 UNKNOWN: msg") as grpc-go prints a status error. */
export function goRpcErrorText(err: unknown): string {
  const e = err as { code?: number; details?: string; message?: string };
  if (typeof e?.code !== "number" || e.details === undefined) return e?.message ?? String(err);
  return `rpc error: code = ${CODE_NAMES[e.code] ?? `Code(${e.code})`} desc = ${e.details}`;
}
