// Rebuilding missing shard files from the ones present: every missing shard (data or parity) is
// reconstructed chunk by chunk from the first dataShards present shards, as weed's RebuildEcFiles
// does. Present shards must all have the same length.

import { closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { ReedSolomon } from "./reed-solomon/index.js";

const CHUNK = 4 * 1024 * 1024;

export interface RebuildRequest {
  /** Path of every shard file, present or not; missing ones are written there. */
  shardPaths: string[];
  /** Which of shardPaths exist now. */
  present: boolean[];
  dataShards: number;
  parityShards: number;
}

function readFully(fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Writes the missing shards; returns their ids. Nothing missing: nothing done. */
export function rebuildShardFiles(req: RebuildRequest): number[] {
  const { shardPaths, present, dataShards, parityShards } = req;
  const total = dataShards + parityShards;
  const missing = present.map((p, i) => (p ? -1 : i)).filter((i) => i >= 0);
  if (missing.length === 0) return [];
  const inputs = present.map((p, i) => (p ? openSync(shardPaths[i]!, "r") : -1));
  const outputs: number[] = [];
  let ok = false;
  try {
    let size = -1;
    for (const [i, fd] of inputs.entries()) {
      if (fd < 0) continue;
      const s = fstatSync(fd).size;
      if (size < 0) size = s;
      else if (s !== size)
        throw new Error(`ec rebuild: input shard ${i} size ${s} != ${size} (truncated input?)`);
    }
    if (size <= 0) throw new Error(`ec rebuild: no input shard data (expected shard size ${size})`);
    if (total - missing.length < dataShards) {
      throw new Error(
        `too few shards to reconstruct: ${total - missing.length} present, ${dataShards} needed`,
      );
    }
    for (const i of missing) outputs[i] = openSync(shardPaths[i]!, "w", 0o644);
    const codec = new ReedSolomon(dataShards, parityShards);
    const buffers = Array.from({ length: total }, () => new Uint8Array(Math.min(CHUNK, size)));
    for (let at = 0; at < size; at += CHUNK) {
      const n = Math.min(CHUNK, size - at);
      const shards: (Uint8Array | undefined)[] = buffers.map((b) => (n === b.length ? b : b.subarray(0, n)));
      for (const [i, fd] of inputs.entries()) {
        if (fd < 0) continue;
        if (readFully(fd, shards[i]!, at) !== n) throw new Error(`ec rebuild: short read of shard ${i}`);
      }
      codec.reconstruct(shards, present);
      for (const i of missing) writeSync(outputs[i]!, shards[i]!);
    }
    ok = true;
    return missing;
  } finally {
    for (const fd of inputs) if (fd >= 0) closeSync(fd);
    for (const i of missing) {
      if (outputs[i] !== undefined) closeSync(outputs[i]!);
      if (!ok) rmSync(shardPaths[i]!, { force: true });
    }
  }
}
