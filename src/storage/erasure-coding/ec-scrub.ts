// Scrubbing an EC volume, as weed's ScrubEcVolume reports it:
//   index  the .ecx alone: whole entries, no two records overlapping;
//   local  the index check, then every needle whose pieces are all on local shards read and its
//          checksum verified; a local shard too short for a piece is reported broken;
//   full   every needle read, pieces not held here fetched from peers; an unreadable piece marks
//          its shard broken and the needle as failed;
//   reads  as full, but an unreadable piece is rebuilt from the other shards (the shard is still
//          reported broken, the needle is not).

import { parseNeedle } from "../needle/needle.js";
import { actualSize, indexEntrySize } from "../types.js";
import { recoverInterval, type ShardFetcher } from "./ec-read.js";
import type { EcVolume } from "./ec-volume.js";
import { locateData } from "./layout.js";

export interface EcScrubResult {
  files: number;
  brokenShards: number[];
  problems: string[];
}

export function scrubEcIndex(v: EcVolume): { files: number; problems: string[] } {
  const ecx = v.indexImage;
  if (ecx.length === 0) return { files: 0, problems: [`zero-size ECX file for EC volume ${v.id}`] };
  const entrySize = indexEntrySize(v.width);
  const problems: string[] = [];
  if (ecx.length % entrySize !== 0) {
    problems.push(`index file size ${ecx.length} is not a multiple of the entry size ${entrySize}`);
  }
  const extents: { id: bigint; start: number; end: number }[] = [];
  let files = 0;
  v.walkIndex((id, offset, size) => {
    files++;
    if (offset === 0 && size < 0) return;
    const length = actualSize(Math.max(size, 0), v.version);
    extents.push({ id, start: offset, end: offset + Math.max(length, 1) - 1 });
  });
  extents.sort((a, b) => a.start - b.start);
  for (let i = 1; i < extents.length; i++) {
    const last = extents[i - 1]!;
    const e = extents[i]!;
    if (e.start <= last.end) {
      problems.push(
        `needle ${e.id} (${e.start}-${e.end}) overlaps needle ${last.id} (${last.start}-${last.end})`,
      );
    }
  }
  return { files, problems };
}

/** The local, full and reads modes (see the top of this file). */
export async function scrubEcNeedles(
  v: EcVolume,
  mode: "local" | "full" | "reads",
  fetch?: ShardFetcher,
): Promise<EcScrubResult> {
  const { files, problems } = scrubEcIndex(v);
  const broken = new Set<number>();
  const needles: { id: bigint; offset: number; size: number }[] = [];
  v.walkIndex((id, offset, size) => {
    if (size >= 0) needles.push({ id, offset, size });
  });
  for (const { id, offset, size } of needles) {
    const length = actualSize(size, v.version);
    const pieces = locateData(v.geometry, v.shardSize(), offset, length);
    const shardIds = [...new Set(pieces.map((p) => p.shard))].sort((a, b) => a - b);
    const parts: Buffer[] = [];
    let complete = true;
    for (const [i, piece] of pieces.entries()) {
      const where = `(interval ${i + 1}/${pieces.length})`;
      if (v.shards.has(piece.shard)) {
        const bytes = v.readShard(piece.shard, piece.offset, piece.size);
        if (bytes.length === piece.size) {
          parts.push(bytes);
          continue;
        }
        if (mode === "local") {
          broken.add(piece.shard);
          problems.push(
            `local shard ${piece.shard} for needle ${id} is too short (${v.currentShardSize(piece.shard)}), cannot read chunk ${i + 1}/${pieces.length}`,
          );
          complete = false;
          continue;
        }
      } else if (mode === "local") {
        complete = false;
        continue;
      }
      const remote = await fetch?.(piece.shard, piece.offset, piece.size).catch(() => undefined);
      if (remote && remote.length === piece.size) {
        parts.push(remote);
        continue;
      }
      broken.add(piece.shard);
      if (mode === "full") {
        problems.push(
          `failed to read EC shard ${piece.shard} for needle ${id} on volume ${v.id} ${where}: shard unavailable`,
        );
        complete = false;
        break;
      }
      try {
        parts.push(await recoverInterval(v, piece, fetch));
      } catch (err) {
        problems.push(
          `failed to recover EC shard ${piece.shard} for needle ${id} on volume ${v.id} ${where}: ${(err as Error).message}`,
        );
        complete = false;
        break;
      }
    }
    if (!complete) continue;
    try {
      parseNeedle(Buffer.concat(parts), v.version, size);
    } catch (err) {
      problems.push(
        `EC volume ${v.id}, needle ${id} on shards [${shardIds.join(" ")}]: ${(err as Error).message}`,
      );
    }
  }
  return { files, brokenShards: [...broken].sort((a, b) => a - b), problems };
}
