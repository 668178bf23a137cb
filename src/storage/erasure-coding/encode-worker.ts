// The worker thread of runInWorker: encodes or rebuilds one volume's shards and reports the result
// or the error.

import { parentPort, workerData } from "node:worker_threads";
import type { WorkerJob } from "./encoder.js";
import { encodeShardFiles } from "./encoder.js";
import { rebuildShardFiles } from "./rebuild.js";

const job = workerData as WorkerJob;
try {
  const result = job.kind === "encode" ? encodeShardFiles(job.request) : rebuildShardFiles(job.request);
  parentPort!.postMessage({ result });
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message ?? String(err) });
}
