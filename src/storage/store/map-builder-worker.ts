// A worker thread of the start-up loader (map-builders.ts): reads a volume's .idx and builds its
// memory needle map, then hands the map's shared columns back to the main thread, which wraps them
// without a copy. One job at a time; an error fails that job only.

import { closeSync, openSync, readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { MemoryNeedleMap } from "../index/needle-map.js";
import { sameFile, stampOf } from "./index-file-stamp.js";
import type { BuildReply, BuildRequest } from "./map-builders.js";

const port = parentPort;
if (!port) throw new Error("map-builder-worker runs as a worker thread");

port.on("message", (job: BuildRequest) => {
  let reply: BuildReply;
  try {
    const fd = openSync(job.idxPath, "r");
    let image: Buffer;
    let stat: ReturnType<typeof stampOf>;
    try {
      stat = stampOf(fd);
      image = readFileSync(fd);
      // A head start may read while the main thread repairs the file: such a read is no map.
      if (!sameFile(stat, fd) || BigInt(image.length) !== stat.size)
        throw new Error(`${job.idxPath} changed while read`);
    } finally {
      closeSync(fd);
    }
    const map = MemoryNeedleMap.fromIndex(image, job.width, job.version);
    reply = { id: job.id, map: map.toShared(), idxLength: image.length, stat };
  } catch (err) {
    reply = { id: job.id, error: (err as Error).message ?? String(err) };
  }
  port.postMessage(reply);
});
