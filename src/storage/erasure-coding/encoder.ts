// Encoding a volume's .dat into shard files with weed's uniform layout (layout.ts): data shard i is
// the .dat's i-th block of B bytes, zero-padded, and parity shards are Reed-Solomon over the data
// shards column by column. The .dat is read in large sequential chunks, each shard file written
// sequentially, with the block checksums of the bitrot sidecar computed on the way. CPU-bound:
// servers call encodeInWorker, which runs this on a worker thread.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { type ShardBlockCrcs, ShardChecksums } from "./block-crcs.js";
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
  /** Per-shard block CRCs for the bitrot sidecar (bitrot.ts writes it). */
  checksums: ShardBlockCrcs[];
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
    // On disk before the .ecx that makes them mountable is put in place.
    for (const fd of outputs) fsyncSync(fd);
    return { datSize, blockSize, checksums: checksums.map((c) => c.finish()) };
  } finally {
    closeSync(dat);
    for (const fd of outputs) closeSync(fd);
  }
}

export type WorkerJob =
  | { kind: "encode"; request: EncodeRequest }
  | { kind: "rebuild"; request: RebuildRequest };

/** encodeShardFiles on the EC worker thread. */
export function encodeInWorker(request: EncodeRequest): Promise<EncodeResult> {
  return runInWorker<EncodeResult>({ kind: "encode", request });
}

/** rebuildShardFiles on the EC worker thread: the ids of the shards written. */
export function rebuildInWorker(request: RebuildRequest): Promise<number[]> {
  return runInWorker<number[]>({ kind: "rebuild", request });
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * One worker thread, started on first use and kept (referenced only while it has jobs, so an idle
 * one never holds the process open): jobs run one at a time, each already using a core to the full; a worker that dies fails
 * its jobs and the next job starts a new one.
 */
let worker: Worker | undefined;
const pending = new Map<number, Pending>();
let nextJob = 1;

function ecWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL("./encode-worker.js", import.meta.url));
  w.on("message", (reply: { id: number; result?: unknown; error?: string }) => {
    const job = pending.get(reply.id);
    pending.delete(reply.id);
    // Idle, the worker does not hold the process open.
    if (pending.size === 0) w.unref();
    if (reply.error !== undefined) job?.reject(new Error(reply.error));
    else job?.resolve(reply.result);
  });
  const lost = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const job of pending.values()) job.reject(err);
    pending.clear();
  };
  w.on("error", lost);
  w.on("exit", (code) => lost(new Error(`encode worker exited with code ${code}`)));
  worker = w;
  return w;
}

function runInWorker<T>(job: WorkerJob): Promise<T> {
  const id = nextJob++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    const w = ecWorker();
    w.ref();
    w.postMessage({ id, job });
  });
}
