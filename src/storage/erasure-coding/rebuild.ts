// Rebuilding missing shard files from the ones present: every missing shard (data or parity) is
// reconstructed from the first dataShards present shards, as weed's RebuildEcFiles does, stripe by
// stripe through stripes.ts (reads, coding in the arena and writes overlapping). Present shards must
// all have the same length. The rebuilt files are fsynced before they are reported, as weed does:
// they are about to be trusted as restored redundancy.

import { closeSync, fstatSync, fsyncSync, openSync, rmSync } from "node:fs";
import { ReedSolomon } from "./reed-solomon/index.js";
import { readFull, rowAt, runStripes, STRIPE_BYTES, stripeArena, writeFull } from "./stripes.js";

export interface RebuildRequest {
  /** Path of every shard file, present or not; missing ones are written there. */
  shardPaths: string[];
  /** Which of shardPaths exist now. */
  present: boolean[];
  dataShards: number;
  parityShards: number;
}

/** Writes the missing shards; returns their ids. Nothing missing: nothing done. */
export async function rebuildShardFiles(req: RebuildRequest): Promise<number[]> {
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
    const plan = new ReedSolomon(dataShards, parityShards).reconstructionPlan(present, missing);
    for (const i of missing) outputs[i] = openSync(shardPaths[i]!, "w", 0o644);
    // Rows of a slot: the chosen inputs, then the missing shards.
    const rows = dataShards + missing.length;
    const stride = Math.min(STRIPE_BYTES, size);
    const arena = stripeArena(rows, stride);
    const lengthOf = (stripe: number) => Math.min(stride, size - stripe * stride);
    const row = (slot: number, r: number, n: number) => {
      const at = rowAt(slot, r, rows, stride);
      return arena.bytes.subarray(at, at + n);
    };
    await runStripes(Math.ceil(size / stride), {
      read: async (slot, stripe) => {
        const n = lengthOf(stripe);
        await Promise.all(
          plan.inputs.map(async (shard, r) => {
            if ((await readFull(inputs[shard]!, row(slot, r, n), stripe * stride)) !== n) {
              throw new Error(`ec rebuild: short read of shard ${shard}`);
            }
          }),
        );
      },
      code: (slot, stripe) => {
        const at = rowAt(slot, 0, rows, stride);
        arena.mulMatrix(plan.coefficients, {
          inputCount: dataShards,
          outputCount: missing.length,
          inputAt: at,
          outputAt: at + dataShards * stride,
          stride,
          length: lengthOf(stripe),
        });
      },
      write: async (slot, stripe) => {
        const n = lengthOf(stripe);
        await Promise.all(
          missing.map((shard, k) =>
            writeFull(outputs[shard]!, row(slot, dataShards + k, n), stripe * stride),
          ),
        );
      },
    });
    for (const i of missing) fsyncSync(outputs[i]!);
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
