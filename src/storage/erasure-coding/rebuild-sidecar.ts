// What the bitrot sidecar (.ecsum) says about a rebuild, as weed's rebuild judges it: "off" (absent,
// another generation, or no layout recorded: an older volume, rebuilt unchecked), "invalid" (broken,
// or describing another layout than the rebuild's: the rebuild refuses unless told to ignore it), or
// "on" with the block CRCs every present shard is checked against and every rebuilt one must match.

import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { ChecksumAlgorithm, type EcBitrotProtection } from "../../pb/volume_server.js";
import { loadSidecar, SIDECAR_EXT } from "./bitrot.js";
import type { ShardBlockCrcs } from "./block-crcs.js";
import { MAX_SHARD_COUNT, validShardCounts } from "./layout.js";

const MAX_BLOCK_SIZE = 64 * 1024 * 1024;

export interface RebuildLayout {
  dataShards: number;
  parityShards: number;
  /** The .vif's block size; 0 for the legacy layout. */
  blockSize: number;
}

/** Block CRCs of a rebuild's shards, indexed by shard id, in a form a worker thread can take. */
export interface RebuildChecksums {
  blockSize: number;
  shards: (ShardBlockCrcs | undefined)[];
}

export type RebuildSidecar =
  | { status: "off" }
  | { status: "invalid"; reason: string }
  | { status: "on"; path: string; checksums: RebuildChecksums };

/** The first generation-0 sidecar among the data base, the index base and the other disks. */
export function findRebuildSidecar(dataBase: string, indexBase: string, dirs: string[]): string | undefined {
  const name = basename(dataBase);
  const candidates = [
    dataBase + SIDECAR_EXT,
    indexBase + SIDECAR_EXT,
    ...dirs.map((d) => join(d, name + SIDECAR_EXT)),
  ];
  return candidates.find((c) => existsSync(c));
}

/** The manifest checks every loader runs (no disk access); the reason it is unusable, if it is. */
export function manifestProblem(
  p: EcBitrotProtection,
  dataShards: number,
  parityShards: number,
): string | undefined {
  if (p.algorithm !== ChecksumAlgorithm.CHECKSUM_CRC32C)
    return `unsupported checksum algorithm ${p.algorithm}`;
  const bs = p.blockSize;
  if (bs < 1 << 20 || bs > MAX_BLOCK_SIZE || (bs & (bs - 1)) !== 0) {
    return `invalid block_size ${bs} (must be a power-of-two multiple of 1 MiB, at most ${MAX_BLOCK_SIZE})`;
  }
  const total = dataShards + parityShards;
  if (total <= 0 || total > MAX_SHARD_COUNT)
    return `invalid active layout: data=${dataShards} parity=${parityShards}`;
  if (p.shards.length !== total)
    return `incomplete manifest: ${p.shards.length} shard entries, expected ${total}`;
  const seen = new Set<number>();
  for (const s of p.shards) {
    if (s.shardId >= total) return `shard id ${s.shardId} out of range [0,${total})`;
    if (seen.has(s.shardId)) return `duplicate shard id ${s.shardId}`;
    seen.add(s.shardId);
    if (s.coveredSize <= 0n) return `shard ${s.shardId} has non-positive covered_size ${s.coveredSize}`;
    const want = Math.ceil(Number(s.coveredSize) / bs) * 4;
    if (s.blockCrc32c.length !== want) {
      return `shard ${s.shardId} crc count mismatch: ${s.blockCrc32c.length} bytes, expected ${want} (covered_size=${s.coveredSize} block_size=${bs})`;
    }
  }
  return undefined;
}

/** Loads and judges the sidecar at `path` (undefined: none found) for a rebuild with `layout`. */
export function judgeRebuildSidecar(path: string | undefined, layout: RebuildLayout): RebuildSidecar {
  if (!path) return { status: "off" };
  let p: EcBitrotProtection | undefined;
  try {
    p = loadSidecar(path);
  } catch (err) {
    return { status: "invalid", reason: (err as Error).message };
  }
  if (p?.generation !== 0 || !p.ecShardConfig) return { status: "off" };
  const c = p.ecShardConfig;
  if (
    c.dataShards !== layout.dataShards ||
    c.parityShards !== layout.parityShards ||
    Number(c.blockSize) !== layout.blockSize
  ) {
    return {
      status: "invalid",
      reason: `sidecar ${path} records layout ${c.dataShards}+${c.parityShards} block ${c.blockSize} but the rebuild uses ${layout.dataShards}+${layout.parityShards} block ${layout.blockSize}`,
    };
  }
  const problem = manifestProblem(p, layout.dataShards, layout.parityShards);
  if (problem) return { status: "invalid", reason: `sidecar ${path} manifest invalid: ${problem}` };
  const shards: (ShardBlockCrcs | undefined)[] = [];
  for (const s of p.shards) {
    shards[s.shardId] = { coveredSize: Number(s.coveredSize), packed: new Uint8Array(s.blockCrc32c) };
  }
  return { status: "on", path, checksums: { blockSize: p.blockSize, shards } };
}

/** The layout a sidecar records, for a rebuild whose volume has no usable .vif. */
export function sidecarLayout(path: string): RebuildLayout {
  let p: EcBitrotProtection | undefined;
  try {
    p = loadSidecar(path);
  } catch (err) {
    throw new Error(`read ${path}: ${(err as Error).message}`);
  }
  if (!p) throw new Error(`read ${path}: no such file`);
  if (p.generation !== 0) throw new Error(`${path} records generation ${p.generation}, not generation 0`);
  const c = p.ecShardConfig;
  if (!c) throw new Error(`${path} records no EC config`);
  if (!validShardCounts(c.dataShards, c.parityShards)) {
    throw new Error(`${path} records invalid shard counts ${c.dataShards}+${c.parityShards}`);
  }
  return { dataShards: c.dataShards, parityShards: c.parityShards, blockSize: Number(c.blockSize) };
}
