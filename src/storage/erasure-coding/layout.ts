// The shape of an EC volume on disk, as weed's erasure_coding package lays it out: shard files
// <base>.ec00 … <base>.ecNN, the sorted index <base>.ecx, the deletion journal <base>.ecj.
//
// The pinned weed encodes with the uniform layout: each data shard is one block of B bytes, B being
// ceil(datSize / dataShards) rounded up to whole 1 MiB units, so data shard i holds .dat bytes
// [i·B, (i+1)·B) zero-padded; parity shards are computed column by column over those blocks.
// A .vif blockSize of 0 means the legacy layout (1 GiB rows while whole, then 1 MiB rows).

export const DATA_SHARDS = 10;
export const PARITY_SHARDS = 4;
/** Shard ids are bits of a uint32 in heartbeats, so a volume has at most 32 shards. */
export const MAX_SHARD_COUNT = 32;
export const LARGE_BLOCK_SIZE = 1024 * 1024 * 1024;
export const SMALL_BLOCK_SIZE = 1024 * 1024;

export interface EcGeometry {
  dataShards: number;
  parityShards: number;
  /** Bytes per block; 0 for the legacy two-tier layout. */
  blockSize: number;
}

/** ".ec00", ".ec01", … */
export function shardExt(shard: number): string {
  return `.ec${String(shard).padStart(2, "0")}`;
}

/** The uniform layout's block size for a .dat of this size. */
export function uniformBlockSize(datSize: number, dataShards: number): number {
  const perShard = Math.ceil(datSize / dataShards);
  const blocks = Math.max(1, Math.ceil(perShard / SMALL_BLOCK_SIZE));
  return blocks * SMALL_BLOCK_SIZE;
}

export function validShardCounts(dataShards: number, parityShards: number): boolean {
  return dataShards > 0 && parityShards > 0 && dataShards + parityShards <= MAX_SHARD_COUNT;
}

/** A piece of a needle's bytes: `size` bytes at `offset` in shard `shard`. */
export interface ShardInterval {
  shard: number;
  offset: number;
  size: number;
}

/**
 * Where the .dat range [datOffset, datOffset + size) lies across the data shards. `shardSize` is the
 * length of one shard file (needed by the legacy layout to know how many 1 GiB rows there are).
 */
export function locateData(
  geometry: EcGeometry,
  shardSize: number,
  datOffset: number,
  size: number,
): ShardInterval[] {
  const { dataShards, blockSize } = geometry;
  const out: ShardInterval[] = [];
  if (blockSize > 0) {
    let at = datOffset;
    let left = size;
    while (left > 0) {
      const shard = Math.floor(at / blockSize);
      const inBlock = at - shard * blockSize;
      const n = Math.min(left, blockSize - inBlock);
      out.push({ shard, offset: inBlock, size: n });
      at += n;
      left -= n;
    }
    return out;
  }
  // Legacy: whole 1 GiB rows first, then 1 MiB rows.
  const largeRows = Math.floor(shardSize / LARGE_BLOCK_SIZE);
  const largeRowBytes = LARGE_BLOCK_SIZE * dataShards;
  let at = datOffset;
  let left = size;
  while (left > 0) {
    let block: number;
    let rowStartInShard: number;
    let inRow: number;
    let blockLen: number;
    if (at < largeRows * largeRowBytes) {
      const row = Math.floor(at / largeRowBytes);
      inRow = at - row * largeRowBytes;
      blockLen = LARGE_BLOCK_SIZE;
      rowStartInShard = row * LARGE_BLOCK_SIZE;
      block = Math.floor(inRow / blockLen);
    } else {
      const rest = at - largeRows * largeRowBytes;
      const smallRowBytes = SMALL_BLOCK_SIZE * dataShards;
      const row = Math.floor(rest / smallRowBytes);
      inRow = rest - row * smallRowBytes;
      blockLen = SMALL_BLOCK_SIZE;
      rowStartInShard = largeRows * LARGE_BLOCK_SIZE + row * SMALL_BLOCK_SIZE;
      block = Math.floor(inRow / blockLen);
    }
    const inBlock = inRow - block * blockLen;
    const n = Math.min(left, blockLen - inBlock);
    out.push({ shard: block, offset: rowStartInShard + inBlock, size: n });
    at += n;
    left -= n;
  }
  return out;
}
