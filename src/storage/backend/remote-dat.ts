// A tiered volume's .dat served from its S3 object (weed's S3BackendStorageFile): every read is a
// ranged GET. The volume's read path is synchronous, so synchronous reads are handed to a worker
// thread and waited for (the event loop pauses for one GET); the streaming path reads async.

import { Worker } from "node:worker_threads";
import type { RemoteReadRequest } from "./remote-read-worker.js";
import type { S3Backend } from "./s3-backend.js";

/** How long a synchronous read waits for the remote before failing. */
const READ_TIMEOUT_MS = 60_000;

let worker: Worker | undefined;

function readerThread(): Worker {
  if (!worker) {
    worker = new Worker(new URL("./remote-read-worker.js", import.meta.url));
    worker.unref();
    worker.on("error", () => {
      worker = undefined;
    });
    worker.on("exit", () => {
      worker = undefined;
    });
  }
  return worker;
}

/** What identifies a backend to the reading thread: its id and the master's settings. */
export interface BackendSettings {
  id: string;
  properties: Record<string, string>;
}

export class RemoteDat {
  private backend: S3Backend | undefined;

  constructor(
    private readonly settings: BackendSettings,
    readonly key: string,
    /** The remote object's size: the .dat size the volume keeps reporting. */
    readonly size: number,
  ) {}

  /** `length` bytes at `position`, blocking until the worker has fetched them. */
  read(length: number, position: number, into?: Buffer): Buffer {
    const out = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    if (length === 0) return out;
    const request: RemoteReadRequest = {
      backendId: this.settings.id,
      properties: this.settings.properties,
      key: this.key,
      offset: position,
      length,
      control: new SharedArrayBuffer(8),
      data: new SharedArrayBuffer(length),
      error: new SharedArrayBuffer(1024),
    };
    const control = new Int32Array(request.control);
    readerThread().postMessage(request);
    if (Atomics.wait(control, 0, 0, READ_TIMEOUT_MS) === "timed-out") {
      throw new Error(
        `bucket ${this.settings.properties["bucket"] ?? ""} read ${this.key}: no data for ${READ_TIMEOUT_MS / 1000}s`,
      );
    }
    if (Atomics.load(control, 0) === 2) {
      throw new Error(Buffer.from(request.error, 0, control[1]).toString());
    }
    out.set(new Uint8Array(request.data, 0, length));
    return out;
  }

  /** Fills `into` with `length` bytes at `position` without blocking; resolves with the count. */
  async readAsync(position: number, into: Buffer, length: number): Promise<number> {
    if (!this.backend) {
      const { S3Backend } = await import("./s3-backend.js");
      this.backend = new S3Backend(this.settings.id, this.settings.properties);
    }
    const bytes = await this.backend.readAt(this.key, position, length);
    bytes.copy(into, 0);
    return bytes.length;
  }
}
