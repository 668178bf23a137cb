// The thread that performs ranged GETs of tiered .dat files for RemoteDat's synchronous reads: it
// fetches into the caller's shared buffer and wakes the caller, which waits on the control word.

import { parentPort } from "node:worker_threads";
import { S3Backend } from "./s3-backend.js";

export interface RemoteReadRequest {
  backendId: string;
  properties: Record<string, string>;
  key: string;
  offset: number;
  length: number;
  /** [state, bytes]: state 0 while waiting, 1 done, 2 failed. */
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** The failure's text, UTF-8, when state is 2 (bytes is its length). */
  error: SharedArrayBuffer;
}

const backends = new Map<string, S3Backend>();

function backendFor(r: RemoteReadRequest): S3Backend {
  const cacheKey = JSON.stringify([r.backendId, r.properties]);
  let b = backends.get(cacheKey);
  if (!b) {
    b = new S3Backend(r.backendId, r.properties);
    backends.set(cacheKey, b);
  }
  return b;
}

parentPort?.on("message", (r: RemoteReadRequest) => {
  const control = new Int32Array(r.control);
  backendFor(r)
    .readAt(r.key, r.offset, r.length)
    .then(
      (bytes) => {
        new Uint8Array(r.data).set(bytes);
        control[1] = bytes.length;
        Atomics.store(control, 0, 1);
      },
      (err: Error) => {
        const text = Buffer.from(err.message).subarray(0, r.error.byteLength);
        new Uint8Array(r.error).set(text);
        control[1] = text.length;
        Atomics.store(control, 0, 2);
      },
    )
    .finally(() => Atomics.notify(control, 0));
});
