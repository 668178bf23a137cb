// Per-block CRC-32C of a shard's bytes, as the bitrot sidecar (bitrot.ts) records them: one CRC per
// 16 MiB block, packed little-endian. Kept apart from the sidecar's protobuf so the encode worker
// loads little.

import { needleCrc } from "../needle/crc.js";

export const BITROT_BLOCK_SIZE = 16 * 1024 * 1024;
export const SIDECAR_EXT = ".ecsum";

export interface ShardBlockCrcs {
  /** Bytes of the shard the CRCs cover. */
  coveredSize: number;
  /** One little-endian uint32 per block. */
  packed: Uint8Array;
}

/** Rolling per-block CRCs of one shard, fed with its bytes in order. */
export class ShardChecksums {
  readonly #blockSize: number;
  #blocks: number[] = [];
  #crc = 0;
  #inBlock = 0;
  #total = 0;

  constructor(blockSize = BITROT_BLOCK_SIZE) {
    this.#blockSize = blockSize;
  }

  write(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(this.#blockSize - this.#inBlock, bytes.length - at);
      this.#crc = needleCrc(bytes.subarray(at, at + n), this.#crc);
      this.#inBlock += n;
      this.#total += n;
      at += n;
      if (this.#inBlock === this.#blockSize) this.#flush();
    }
  }

  #flush(): void {
    this.#blocks.push(this.#crc);
    this.#crc = 0;
    this.#inBlock = 0;
  }

  finish(): ShardBlockCrcs {
    if (this.#inBlock > 0) this.#flush();
    const packed = Buffer.alloc(this.#blocks.length * 4);
    for (const [i, crc] of this.#blocks.entries()) packed.writeUInt32LE(crc, i * 4);
    return { coveredSize: this.#total, packed };
  }
}

/**
 * How many of the recorded blocks the computed CRCs disagree with; every one of them when the
 * lengths differ (a truncated or overlong shard is corrupt throughout, as weed counts it).
 */
export function mismatchedBlockCount(recorded: ShardBlockCrcs, computed: ShardBlockCrcs): number {
  const want = Buffer.from(recorded.packed.buffer, recorded.packed.byteOffset, recorded.packed.length);
  const count = Math.floor(want.length / 4);
  if (recorded.coveredSize !== computed.coveredSize || computed.packed.length !== want.length) return count;
  const got = Buffer.from(computed.packed.buffer, computed.packed.byteOffset, computed.packed.length);
  let bad = 0;
  for (let i = 0; i < count; i++) if (got.readUInt32LE(i * 4) !== want.readUInt32LE(i * 4)) bad++;
  return bad;
}
