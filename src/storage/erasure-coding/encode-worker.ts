// The worker thread of encodeInWorker: encodes one volume and reports the result or the error.

import { parentPort, workerData } from "node:worker_threads";
import { type EncodeRequest, encodeShardFiles } from "./encoder.js";

try {
  parentPort!.postMessage({ result: encodeShardFiles(workerData as EncodeRequest) });
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message ?? String(err) });
}
