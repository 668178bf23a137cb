// Rebuilding missing shard files from the ones present: every missing shard (data or parity) is
// reconstructed from the first dataShards usable shards, as weed's RebuildEcFiles does, stripe by
// stripe through stripes.ts (reads, coding in the arena and writes overlapping).
//
// With the bitrot sidecar's block CRCs (rebuild-sidecar.ts), weed checks every present shard before
// trusting it and regenerates the ones that fail, then checks the rebuilt shards. Here the checks
// ride on the rebuild's own pass: the present shards are CRC'd as they are read and the rebuilt ones
// as they are coded, so a clean rebuild reads every byte once. Only when a present shard turns out
// corrupt is the pass thrown away and run again without it (weed's verify-then-rebuild order gives
// the same outcome). A zero-sized shard file is residue, not a shard: it is regenerated too.
// Regenerated replacements are written beside the original (.rebuilding) and renamed over it only
// once everything checked out; on any failure every output is removed. Outputs are fsynced before
// they are reported: they are about to be trusted as restored redundancy.

import { closeSync, fstatSync, fsyncSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import {
  BITROT_BLOCK_SIZE,
  mismatchedBlockCount,
  type ShardBlockCrcs,
  ShardChecksums,
} from "./block-crcs.js";
import type { RebuildChecksums } from "./rebuild-sidecar.js";
import { ReedSolomon } from "./reed-solomon/index.js";
import { readFull, runStripes, stripeLayout, writeFull } from "./stripes.js";

export interface RebuildRequest {
  /** Base name of the volume's files, for messages (weed names it so). */
  baseName: string;
  /** Path of every shard file, present or not; missing ones are written there. */
  shardPaths: string[];
  /** Which of shardPaths exist now. */
  present: boolean[];
  dataShards: number;
  parityShards: number;
  /** The sidecar's block CRCs: present shards are checked before use, rebuilt ones after. */
  checksums?: RebuildChecksums;
  /** No sidecar yet and every shard here: also return the block CRCs of all shards (a backfill). */
  backfill?: boolean;
}

export interface RebuildResult {
  /** Shards written: the missing ones, then present ones that failed their checksum. */
  rebuilt: number[];
  /** Of those, the ones that replaced an existing file (mounted handles must be reopened). */
  replaced: number[];
  /** Block CRCs of every shard, when a backfill was asked for and could be done. */
  backfill?: ShardBlockCrcs[];
}

interface Pass {
  size: number;
  usable: number[];
  missing: number[];
  /** Shards whose bytes are CRC'd in this pass (read or written). */
  summed: Set<number>;
  writePaths: string[];
  blockSize: number;
  dataShards: number;
  parityShards: number;
}

/** Writes the missing (and corrupt) shards; returns their ids. Nothing to do: nothing done. */
export async function rebuildShardFiles(req: RebuildRequest): Promise<RebuildResult> {
  const { baseName, shardPaths, present, dataShards, parityShards, checksums } = req;
  const total = dataShards + parityShards;
  const missing: number[] = [];
  const replaced: number[] = [];
  const usable: number[] = [];
  for (let i = 0; i < total; i++) {
    if (!present[i]) missing.push(i);
    else if (statSync(shardPaths[i]!).size === 0) {
      missing.push(i);
      replaced.push(i);
    } else usable.push(i);
  }
  if (missing.length === 0 && !checksums && !req.backfill) return { rebuilt: [], replaced: [] };
  const presentCount = usable.length;
  const entry = (i: number) => checksums?.shards[i];
  // A length other than the recorded one is corruption throughout; no need to read it.
  const corrupt = usable.filter((i) => entry(i) && statSync(shardPaths[i]!).size !== entry(i)!.coveredSize);
  let inputs = usable.filter((i) => !corrupt.includes(i));
  const blockSize = checksums?.blockSize ?? BITROT_BLOCK_SIZE;
  let size = -1;
  for (const i of inputs) {
    const s = statSync(shardPaths[i]!).size;
    if (size < 0) size = s;
    else if (s !== size)
      throw new Error(`ec rebuild: input shard ${i} size ${s} != ${size} (truncated input?)`);
  }
  const writePaths: string[] = [];
  const pathFor = (i: number) => (replaced.includes(i) ? `${shardPaths[i]}.rebuilding` : shardPaths[i]!);
  const cleanup = () => {
    for (const p of writePaths) if (p) rmSync(p, { force: true });
  };
  const guard = () => {
    if (corrupt.length > parityShards) {
      throw new Error(
        `bitrot sidecar suspect for ${baseName}: ${corrupt.length}/${presentCount} present shards mismatch (> parity ${parityShards}); refusing to rebuild (pass unsafeIgnoreSidecar to override)`,
      );
    }
    if (presentCount - corrupt.length < dataShards) {
      throw new Error(
        `bitrot: only ${presentCount - corrupt.length} verified-good shards for ${baseName}, need ${dataShards} data shards; sidecar may be stale (pass unsafeIgnoreSidecar to override)`,
      );
    }
  };
  const notEnough = (outputs: number[]) =>
    new Error(
      `not enough shards to rebuild ${baseName}: found ${inputs.length} shards, need at least ${dataShards} (data shards), missing shards: [${outputs.join(" ")}]`,
    );
  if (inputs.length < dataShards) {
    if (corrupt.length > 0) guard();
    throw notEnough([...missing, ...corrupt]);
  }
  try {
    // First pass: rebuild what is missing while checking (or, for a backfill, summing) the inputs.
    const checked = checksums ? inputs.filter((i) => entry(i)) : req.backfill ? inputs : [];
    for (const i of missing) writePaths[i] = pathFor(i);
    let sums = await codePass(shardPaths, {
      size,
      usable: inputs,
      missing,
      summed: new Set([...checked, ...(checksums || req.backfill ? missing : [])]),
      writePaths,
      blockSize,
      dataShards,
      parityShards,
    });
    if (checksums) {
      for (const i of checked) if (mismatchedBlockCount(entry(i)!, sums.get(i)!) > 0) corrupt.push(i);
    }
    if (corrupt.length > 0) {
      // A present shard is bad: what was rebuilt from it is too. Rebuild again without it.
      cleanup();
      guard();
      corrupt.sort((a, b) => a - b);
      replaced.push(...corrupt);
      missing.push(...corrupt);
      inputs = inputs.filter((i) => !corrupt.includes(i));
      for (const i of missing) writePaths[i] = pathFor(i);
      sums = await codePass(shardPaths, {
        size,
        usable: inputs,
        missing,
        summed: new Set(missing),
        writePaths,
        blockSize,
        dataShards,
        parityShards,
      });
    }
    for (const i of missing) {
      const want = entry(i);
      if (!checksums || !want) continue;
      const fd = openSync(writePaths[i]!, "r");
      const onDisk = fstatSync(fd).size;
      closeSync(fd);
      const sum = sums.get(i)!;
      const bad = mismatchedBlockCount(
        want,
        onDisk === sum.coveredSize ? sum : { ...sum, coveredSize: onDisk },
      );
      if (bad > 0) {
        throw new Error(
          `bitrot: regenerated shard ${i} for ${baseName} does not match sidecar (${bad} blocks differ); sidecar likely stale — aborting (pass unsafeIgnoreSidecar to override)`,
        );
      }
    }
    for (const i of replaced) renameSync(writePaths[i]!, shardPaths[i]!);
    const result: RebuildResult = { rebuilt: missing, replaced };
    if (req.backfill && !checksums) result.backfill = Array.from({ length: total }, (_, i) => sums.get(i)!);
    return result;
  } catch (err) {
    cleanup();
    throw err;
  }
}

/**
 * One pass over the shards: reads the first dataShards usable ones (and any other summed one),
 * codes and writes the missing ones, fsyncs them; returns the block CRCs of the summed shards.
 */
async function codePass(shardPaths: string[], pass: Pass): Promise<Map<number, ShardBlockCrcs>> {
  const { size, usable, missing, summed, writePaths, blockSize, dataShards, parityShards } = pass;
  const rs =
    missing.length > 0
      ? new ReedSolomon(dataShards, parityShards).reconstructionPlan(
          shardPaths.map((_, i) => usable.includes(i)),
          missing,
        )
      : undefined;
  const reads = rs
    ? [...rs.inputs, ...usable.filter((i) => summed.has(i) && !rs.inputs.includes(i))]
    : [...summed];
  const codedInputs = rs ? rs.inputs.length : 0;
  // Rows of a slot: the coding inputs, the missing shards, then shards only read to be checked.
  const order = [...reads.slice(0, codedInputs), ...missing, ...reads.slice(codedInputs)];
  const rows = order.length;
  const sums = new Map<number, ShardChecksums>();
  for (const i of summed) sums.set(i, new ShardChecksums(blockSize));
  const inputs = new Map(reads.map((i) => [i, openSync(shardPaths[i]!, "r")]));
  const outputs = new Map<number, number>();
  try {
    for (const i of missing) outputs.set(i, openSync(writePaths[i]!, "w", 0o644));
    const { arena, stride, count, lengthOf, at, row } = stripeLayout(rows, size);
    await runStripes(count, {
      read: async (slot, stripe) => {
        const n = lengthOf(stripe);
        await Promise.all(
          order.map(async (shard, r) => {
            const fd = inputs.get(shard);
            if (fd === undefined) return;
            const bytes = row(slot, r, n);
            if ((await readFull(fd, bytes, stripe * stride)) !== n) {
              throw new Error(`ec rebuild: short read of shard ${shard}`);
            }
            sums.get(shard)?.write(bytes);
          }),
        );
      },
      code: (slot, stripe) => {
        if (!rs) return;
        const n = lengthOf(stripe);
        const first = at(slot, 0);
        arena.mulMatrix(rs.coefficients, {
          inputCount: codedInputs,
          outputCount: missing.length,
          inputAt: first,
          outputAt: first + codedInputs * stride,
          stride,
          length: n,
        });
        for (const [k, shard] of missing.entries()) sums.get(shard)?.write(row(slot, codedInputs + k, n));
      },
      write: async (slot, stripe) => {
        const n = lengthOf(stripe);
        await Promise.all(
          missing.map((shard, k) =>
            writeFull(outputs.get(shard)!, row(slot, codedInputs + k, n), stripe * stride),
          ),
        );
      },
    });
    for (const fd of outputs.values()) fsyncSync(fd);
    return new Map([...sums].map(([i, s]) => [i, s.finish()]));
  } finally {
    for (const fd of inputs.values()) closeSync(fd);
    for (const fd of outputs.values()) closeSync(fd);
  }
}
