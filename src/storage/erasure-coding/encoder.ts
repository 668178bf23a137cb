// Encoding a volume's .dat into shard files with weed's uniform layout (layout.ts): data shard i is
// the .dat's i-th block of B bytes, zero-padded, and parity shards are Reed-Solomon over the data
// shards column by column. The .dat is read in large sequential chunks, each shard file written
// sequentially, with the bitrot sidecar (.ecsum) of their block checksums. CPU-bound: servers call
// encodeInWorker, which runs this on a worker thread.

import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { buildProtection, ShardChecksums, SIDECAR_EXT, saveSidecar } from "./bitrot.js";
import { shardExt, uniformBlockSize } from "./layout.js";
import type { RebuildRequest } from "./rebuild.js";
import { ReedSolomon } from "./reed-solomon/index.js";

/** Bytes of each shard handled per step: large enough for sequential I/O, small enough for memory. */
const CHUNK = 8 * 1024 * 1024;

export interface EncodeRequest {
  dataBase: string;
  dataShards: number;
  parityShards: number;
}

export interface EncodeResult {
  /** The .dat length the encode read; the .vif records it with the block size. */
  datSize: number;
  blockSize: number;
}

function readFully(fd: number, into: Uint8Array, position: number, limit: number): void {
  let got = 0;
  const want = Math.max(0, Math.min(into.length, limit - position));
  while (got < want) {
    const n = readSync(fd, into, got, want - got, position + got);
    if (n === 0) break;
    got += n;
  }
  into.fill(0, got);
}

function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

/** Writes <dataBase>.ec00 … from <dataBase>.dat on this thread. */
export function encodeShardFiles(req: EncodeRequest): EncodeResult {
  const { dataBase, dataShards, parityShards } = req;
  const total = dataShards + parityShards;
  const codec = new ReedSolomon(dataShards, parityShards);
  const dat = openSync(`${dataBase}.dat`, "r");
  const outputs: number[] = [];
  try {
    const datSize = fstatSync(dat).size;
    const blockSize = uniformBlockSize(datSize, dataShards);
    for (let i = 0; i < total; i++) outputs.push(openSync(`${dataBase}${shardExt(i)}`, "w", 0o644));
    const chunk = Math.min(CHUNK, blockSize);
    const buffers = Array.from({ length: total }, () => new Uint8Array(chunk));
    const checksums = Array.from({ length: total }, () => new ShardChecksums());
    for (let at = 0; at < blockSize; at += chunk) {
      const n = Math.min(chunk, blockSize - at);
      const shards = n === chunk ? buffers : buffers.map((b) => b.subarray(0, n));
      for (let i = 0; i < dataShards; i++) readFully(dat, shards[i]!, i * blockSize + at, datSize);
      codec.encode(shards.slice(0, dataShards), shards.slice(dataShards));
      for (let i = 0; i < total; i++) {
        writeFully(outputs[i]!, shards[i]!);
        checksums[i]!.write(shards[i]!);
      }
    }
    saveSidecar(
      `${dataBase}${SIDECAR_EXT}`,
      buildProtection({ dataShards, parityShards, blockSize }, checksums),
    );
    return { datSize, blockSize };
  } finally {
    closeSync(dat);
    for (const fd of outputs) closeSync(fd);
  }
}

export type WorkerJob =
  | { kind: "encode"; request: EncodeRequest }
  | { kind: "rebuild"; request: RebuildRequest };

/** encodeShardFiles on a worker thread of its own. */
export function encodeInWorker(request: EncodeRequest): Promise<EncodeResult> {
  return runInWorker<EncodeResult>({ kind: "encode", request });
}

/** rebuildShardFiles on a worker thread of its own: the ids of the shards written. */
export function rebuildInWorker(request: RebuildRequest): Promise<number[]> {
  return runInWorker<number[]>({ kind: "rebuild", request });
}

function runInWorker<T>(job: WorkerJob): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./encode-worker.js", import.meta.url), { workerData: job });
    let settled = false;
    worker.once("message", (reply: { result?: T; error?: string }) => {
      settled = true;
      if (reply.error !== undefined) reject(new Error(reply.error));
      else resolve(reply.result!);
    });
    worker.once("error", (err) => {
      settled = true;
      reject(err);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`encode worker exited with code ${code}`));
    });
  });
}
