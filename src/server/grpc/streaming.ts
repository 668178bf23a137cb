// Adapters for streaming RPCs: async handlers for server-streaming and client-streaming calls, and
// a send that waits for the client to keep up (large files stream through these in 2 MiB frames).

import type {
  ClientReadableStream,
  ServerReadableStream,
  ServerWritableStream,
  ServiceError,
  sendUnaryData,
} from "@grpc/grpc-js";
import { toFailure } from "./call.js";

export class CallCancelled extends Error {
  constructor() {
    super("context canceled");
  }
}

/** Server-streaming: the handler sends with `send`; a throw ends the call with that error. */
export function serverStream<Req, Res>(
  handler: (call: ServerWritableStream<Req, Res>) => Promise<void>,
): (call: ServerWritableStream<Req, Res>) => void {
  return (call) => {
    handler(call).then(
      () => {
        if (!call.cancelled) call.end();
      },
      (err: unknown) => {
        if (!call.cancelled) call.emit("error", toFailure(err));
      },
    );
  };
}

/** Writes one message, waiting while the client's window is full; throws once the call is gone. */
export function send<Res>(call: ServerWritableStream<unknown, Res>, message: Res): Promise<void> {
  if (call.cancelled) return Promise.reject(new CallCancelled());
  if (call.write(message)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      call.off("drain", done);
      call.off("cancelled", gone);
      resolve();
    };
    const gone = () => {
      call.off("drain", done);
      call.off("cancelled", gone);
      reject(new CallCancelled());
    };
    call.on("drain", done);
    call.on("cancelled", gone);
  });
}

/** Client-streaming: the handler reads the call's messages and returns the single answer. */
export function clientStream<Req, Res>(
  handler: (call: ServerReadableStream<Req, Res>) => Promise<Res>,
): (call: ServerReadableStream<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    handler(call).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toFailure(err) as ServiceError),
    );
  };
}

/** The messages of a server-streaming call made to a peer; the peer's error is thrown. */
export async function* receive<T>(stream: ClientReadableStream<T>): AsyncGenerator<T> {
  try {
    for await (const message of stream) yield message as T;
  } finally {
    stream.cancel();
  }
}
