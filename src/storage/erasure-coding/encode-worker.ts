// The EC worker thread (encoder.ts runInWorker): encodes or rebuilds one volume's shards per
// message, in order, and answers with the result or the error.

import { parentPort } from "node:worker_threads";
import { encodeShardFiles, type WorkerJob } from "./encoder.js";
import { rebuildShardFiles } from "./rebuild.js";

const port = parentPort;
if (!port) throw new Error("encode-worker runs as a worker thread");

async function run(id: number, job: WorkerJob): Promise<void> {
  try {
    const result =
      job.kind === "encode" ? await encodeShardFiles(job.request) : await rebuildShardFiles(job.request);
    port!.postMessage({ id, result });
  } catch (err) {
    port!.postMessage({ id, error: (err as Error).message ?? String(err) });
  }
}

// One job at a time: they share the coding arena (stripes.ts), and each keeps the disks busy alone.
let queue = Promise.resolve();
port.on("message", ({ id, job }: { id: number; job: WorkerJob }) => {
  queue = queue.then(() => run(id, job));
});
