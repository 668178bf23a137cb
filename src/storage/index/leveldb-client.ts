// The main thread's side of the LevelDB worker: one worker for the process, started on first use.
// `call` posts a request and blocks (Atomics.wait) until the worker answers on the reply port, which
// is what lets the needle map's load, close and iteration be synchronous although LevelDB's are not.
// `send` posts without waiting (the map's writes).

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { ErrorReply, Request } from "./leveldb-protocol.js";

export class LevelDbWorkerError extends Error {}

class WorkerClient {
  private readonly worker: Worker;
  private readonly replies: MessagePort;
  /** [bumped by the worker after each reply, set to 1 once the worker runs]. */
  private readonly signal = new Int32Array(new SharedArrayBuffer(8));
  private dead: Error | undefined;

  constructor() {
    const channel = new MessageChannel();
    this.replies = channel.port1;
    this.worker = new Worker(new URL("./leveldb-worker.js", import.meta.url), {
      workerData: { signal: this.signal, port: channel.port2 },
      transferList: [channel.port2],
    });
    // The worker must not keep the process alive: maps flush and close it explicitly.
    this.worker.unref();
    this.worker.on("error", (err) => {
      this.dead = err;
    });
    this.worker.on("exit", () => {
      this.dead ??= new LevelDbWorkerError("LevelDB worker exited");
      if (client === this) client = undefined;
    });
  }

  send(req: Request, transfer: ArrayBuffer[] = []): void {
    if (this.dead) throw new LevelDbWorkerError(`LevelDB worker is gone: ${this.dead.message}`);
    this.worker.postMessage(req, transfer);
  }

  call<T>(req: Request, transfer: ArrayBuffer[] = []): T {
    let seen = Atomics.load(this.signal, 0);
    this.send(req, transfer);
    const started = Date.now();
    for (;;) {
      const got = receiveMessageOnPort(this.replies);
      if (got) {
        const message = got.message as T | ErrorReply;
        if (message && typeof message === "object" && "error" in message)
          throw new LevelDbWorkerError(message.error);
        return message as T;
      }
      // The worker answers every request, errors included. The one thing a waiting thread cannot
      // see is a worker that never started (its error event needs this thread's event loop).
      if (
        Atomics.wait(this.signal, 0, seen, 1000) === "timed-out" &&
        Atomics.load(this.signal, 1) === 0 &&
        Date.now() - started > WORKER_START_LIMIT_MS
      ) {
        throw new LevelDbWorkerError("LevelDB worker did not start");
      }
      seen = Atomics.load(this.signal, 0);
    }
  }
}

const WORKER_START_LIMIT_MS = 30_000;

let client: WorkerClient | undefined;

export function levelDbWorker(): WorkerClient {
  client ??= new WorkerClient();
  return client;
}

export type { WorkerClient };
