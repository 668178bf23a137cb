// Encoding a volume's .dat into shard files with weed's uniform layout (layout.ts): data shard i is
// the .dat's i-th block of B bytes, zero-padded, and parity shards are Reed-Solomon over the data
// shards column by column. Stripes of 1 MiB per shard go through stripes.ts: the data pieces are
// read straight into the coding arena, the parity computed there and every piece written from it,
// reads, coding and writes overlapping; the block checksums of the bitrot sidecar are computed on
// the way. CPU-bound: servers call encodeInWorker, which runs this on a worker thread.

import { closeSync, fstatSync, openSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { type ShardBlockCrcs, ShardChecksums } from "./block-crcs.js";
import { shardExt, uniformBlockSize } from "./layout.js";
import type { RebuildRequest, RebuildResult } from "./rebuild.js";
import { ReedSolomon } from "./reed-solomon/index.js";
import { readFull, runStripes, stripeLayout, writeFull } from "./stripes.js";

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

/** Writes <dataBase>.ec00 … from <dataBase>.dat. */
export async function encodeShardFiles(req: EncodeRequest): Promise<EncodeResult> {
  const { dataBase, dataShards, parityShards } = req;
  const total = dataShards + parityShards;
  const coefficients = new ReedSolomon(dataShards, parityShards).parityCoefficients();
  const dat = openSync(`${dataBase}.dat`, "r");
  const outputs: number[] = [];
  try {
    const datSize = fstatSync(dat).size;
    const blockSize = uniformBlockSize(datSize, dataShards);
    for (let i = 0; i < total; i++) outputs.push(openSync(`${dataBase}${shardExt(i)}`, "w", 0o644));
    const { arena, stride, count, lengthOf, at, row } = stripeLayout(total, blockSize);
    const checksums = Array.from({ length: total }, () => new ShardChecksums());
    await runStripes(count, {
      read: async (slot, stripe) => {
        const n = lengthOf(stripe);
        const pieces = [];
        for (let i = 0; i < dataShards; i++) {
          pieces.push(readFull(dat, row(slot, i, n), i * blockSize + stripe * stride, datSize));
        }
        await Promise.all(pieces);
      },
      code: (slot, stripe) => {
        const n = lengthOf(stripe);
        const first = at(slot, 0);
        arena.mulMatrix(coefficients, {
          inputCount: dataShards,
          outputCount: parityShards,
          inputAt: first,
          outputAt: first + dataShards * stride,
          stride,
          length: n,
        });
        for (let i = 0; i < total; i++) checksums[i]!.write(row(slot, i, n));
      },
      write: async (slot, stripe) => {
        const n = lengthOf(stripe);
        await Promise.all(outputs.map((fd, i) => writeFull(fd, row(slot, i, n), stripe * stride)));
      },
    });
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

/** rebuildShardFiles on the EC worker thread. */
export function rebuildInWorker(request: RebuildRequest): Promise<RebuildResult> {
  return runInWorker<RebuildResult>({ kind: "rebuild", request });
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
