// The CHECKSUM scrub of an EC volume, as weed's ChecksumScrub: every local shard's bytes, parity
// included, checked block by block against the bitrot sidecar (.ecsum). No sidecar: nothing to
// check, not a fault. More mismatching shards than parity shards: the sidecar is suspect, no shard
// is flagged. Otherwise, when enough clean shards are local, Reed-Solomon arbitrates: a flagged
// shard that the clean ones reconstruct to exactly its bytes is fine (its sidecar entry is stale).

import { readSync } from "node:fs";
import { needleCrc } from "../needle/crc.js";
import type { EcScrubResult } from "./ec-scrub.js";
import type { EcVolume } from "./ec-volume.js";
import type { RebuildSidecar } from "./rebuild-sidecar.js";
import { ReedSolomon } from "./reed-solomon/index.js";

function readAt(fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** True when Reed-Solomon from the clean local shards disagrees with `target`'s bytes on disk. */
function rsConfirmsCorrupt(v: EcVolume, target: number, broken: Set<number>, blockSize: number): boolean {
  const { dataShards, parityShards } = v.geometry;
  const total = dataShards + parityShards;
  const rs = new ReedSolomon(dataShards, parityShards);
  const size = v.shards.get(target)!.size;
  for (let offset = 0; offset < size; offset += blockSize) {
    const n = Math.min(blockSize, size - offset);
    const shards: (Uint8Array | undefined)[] = new Array(total).fill(undefined);
    const present = new Array<boolean>(total).fill(false);
    for (const [id, file] of v.shards) {
      if (id === target || broken.has(id) || id >= total) continue;
      const buf = new Uint8Array(n);
      const got = readAt(file.fd, buf, offset);
      if (got !== n) throw new Error(`read clean shard ${id} at ${offset}: short read (got ${got}/${n})`);
      shards[id] = buf;
      present[id] = true;
    }
    rs.reconstruct(shards, present);
    const disk = new Uint8Array(n);
    if (readAt(v.shards.get(target)!.fd, disk, offset) !== n) {
      throw new Error(`read target shard ${target} at ${offset}: short read`);
    }
    if (!Buffer.from(disk).equals(shards[target]!)) return true;
  }
  return false;
}

export function scrubEcChecksums(v: EcVolume, sidecar: RebuildSidecar): EcScrubResult {
  if (sidecar.status === "off") return { files: 0, brokenShards: [], problems: [] };
  if (sidecar.status === "invalid") {
    return {
      files: 0,
      brokenShards: [],
      problems: [`ec volume ${v.id}: bitrot sidecar is malformed/unverifiable (sidecar integrity)`],
    };
  }
  const { blockSize, shards: entries } = sidecar.checksums;
  const problems: string[] = [];
  let broken: number[] = [];
  const buf = Buffer.allocUnsafe(blockSize);
  for (const [id, file] of [...v.shards].sort((a, b) => a[0] - b[0])) {
    const entry = entries[id];
    if (!entry) {
      problems.push(`ec volume ${v.id}: no checksum entry for local shard ${id}`);
      continue;
    }
    if (file.size !== entry.coveredSize) {
      problems.push(
        `ec volume ${v.id} shard ${id}: size ${file.size} != covered_size ${entry.coveredSize} (truncated or extended)`,
      );
      broken.push(id);
      continue;
    }
    const want = Buffer.from(entry.packed.buffer, entry.packed.byteOffset, entry.packed.length);
    let bad = false;
    for (let i = 0, offset = 0; i * 4 < want.length; i++) {
      const n = Math.min(blockSize, entry.coveredSize - offset);
      const got = readAt(file.fd, buf.subarray(0, n), offset);
      if (got !== n) {
        problems.push(
          `ec volume ${v.id} shard ${id}: read block ${i} at ${offset}: short read (got ${got}/${n})`,
        );
        bad = true;
        break;
      }
      if (needleCrc(buf.subarray(0, n)) !== want.readUInt32LE(i * 4)) {
        problems.push(`ec volume ${v.id} shard ${id}: checksum mismatch at block ${i} (offset ${offset})`);
        bad = true;
      }
      offset += n;
    }
    if (bad) broken.push(id);
  }
  const { dataShards, parityShards } = v.geometry;
  if (broken.length > parityShards) {
    return {
      files: 0,
      brokenShards: [],
      problems: [
        `ec volume ${v.id}: ${broken.length}/${v.shards.size} local shards mismatch (> parity ${parityShards}): suspect stale sidecar, not flagging shard corruption`,
      ],
    };
  }
  if (broken.length > 0 && v.shards.size - broken.length >= dataShards) {
    const flagged = new Set(broken);
    broken = broken.filter((id) => {
      try {
        if (rsConfirmsCorrupt(v, id, flagged, blockSize)) return true;
        problems.push(
          `ec volume ${v.id} shard ${id}: sidecar mismatch but Reed-Solomon confirms the bytes are correct: stale sidecar, not flagging shard`,
        );
        return false;
      } catch (err) {
        problems.push(`ec volume ${v.id} shard ${id}: RS arbitration failed: ${(err as Error).message}`);
        return true;
      }
    });
  }
  return { files: 0, brokenShards: broken.sort((a, b) => a - b), problems };
}
