// Scrubbing a volume for bit rot and index damage, as weed's ScrubVolume reports it:
//   index  the .idx alone: whole entries, no two records overlapping in the .dat;
//   full   the index check, then every indexed record read back and its checksum verified, its
//          header's id matched against the index key, and the .dat's size matched against the
//          records the index accounts for.
// Problems are collected, not thrown: a scrub reports every broken needle it finds.

import { readIndexEntry } from "../index/idx.js";
import { keyToBigInt } from "../needle/needle-id.js";
import { actualSize, indexEntrySize, SUPER_BLOCK_SIZE, TOMBSTONE_FILE_SIZE } from "../types.js";
import { superBlockSize } from "./super-block.js";
import type { Volume } from "./volume.js";

export interface ScrubResult {
  /** Index entries looked at. */
  files: number;
  problems: string[];
}

interface Entry {
  position: number;
  id: bigint;
  offset: number;
  size: number;
}

/** The index entries, and an error when the .idx is unusable for this volume. */
function readEntries(v: Volume): { entries: Entry[]; error?: string } {
  const size = indexEntrySize(v.width);
  if (v.indexSize === 0 && v.datSize > SUPER_BLOCK_SIZE) {
    return { entries: [], error: `zero-size IDX file for volume ${v.id} with store size ${v.datSize}` };
  }
  const count = Math.floor(v.indexSize / size);
  const entries: Entry[] = [];
  const e = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  const perRead = Math.floor((1 << 20) / size);
  for (let first = 0; first < count; first += perRead) {
    const n = Math.min(perRead, count - first);
    const buf = v.readIndex(first * size, n * size);
    for (let i = 0; i < n; i++) {
      readIndexEntry(buf, i * size, v.width, e);
      entries.push({
        position: first + i,
        id: keyToBigInt(e.keyHi, e.keyLo),
        offset: e.offset * 8,
        size: e.size,
      });
    }
  }
  return { entries };
}

/** Bytes a record of this index size takes in the .dat (a tombstone's record holds no data). */
function recordLength(size: number, v: Volume): number {
  return actualSize(size === TOMBSTONE_FILE_SIZE ? 0 : Math.abs(size), v.version);
}

function checkIndex(v: Volume, entries: Entry[], problems: string[]): void {
  // Offset-0 tombstones (deletes of remote-tier volumes) occupy nothing in the .dat.
  const physical = entries
    .filter((e) => !(e.offset === 0 && e.size < 0))
    .sort((a, b) => a.offset - b.offset || a.size - b.size);
  for (let i = 1; i < physical.length; i++) {
    const e = physical[i]!;
    const last = physical[i - 1]!;
    const end = e.offset + recordLength(e.size, v) - 1;
    const lastEnd = last.offset + recordLength(last.size, v) - 1;
    if (e.offset <= lastEnd) {
      problems.push(
        `needle ${e.id} (#${e.position + 1}) at [${e.offset}-${end}] overlaps needle ${last.id} at [${last.offset}-${lastEnd}]`,
      );
    }
  }
  const want = entries.length * indexEntrySize(v.width);
  if (want !== v.indexSize) problems.push(`expected an index file of size ${v.indexSize}, got ${want}`);
}

export function scrubIndex(v: Volume): ScrubResult {
  const { entries, error } = readEntries(v);
  if (error) return { files: 0, problems: [error] };
  const problems: string[] = [];
  checkIndex(v, entries, problems);
  return { files: entries.length, problems };
}

/** Reads every record: long for a big volume, so it yields to other work now and then. */
export async function scrubVolume(v: Volume): Promise<ScrubResult> {
  const { entries, error } = readEntries(v);
  if (error) return { files: 0, problems: [error] };
  const problems: string[] = [];
  checkIndex(v, entries, problems);
  let accounted = 0;
  let sinceYield = 0;
  for (const e of entries) {
    if (++sinceYield === 1024) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (e.offset === 0 && e.size < 0) continue;
    const size = e.size === TOMBSTONE_FILE_SIZE ? 0 : Math.abs(e.size);
    try {
      const n = v.readAt(e.offset, size);
      const id = keyToBigInt(n.keyHi, n.keyLo);
      if (id !== e.id) {
        problems.push(
          `index key ${e.id.toString(16)} does not match needle's Id ${id.toString(16)} on volume ${v.id}`,
        );
      }
    } catch (err) {
      problems.push(`failed to read needle ${e.id} on volume ${v.id}: ${(err as Error).message}`);
    }
    accounted += recordLength(e.size, v);
  }
  const want = accounted + superBlockSize(v.superBlock);
  if (v.datSize < want) {
    problems.push(
      `data file for volume ${v.id} is smaller (${v.datSize}) than the ${entries.length} needles it contains (${want})`,
    );
  } else if (v.datSize !== want) {
    problems.push(
      `data file size for volume ${v.id} (${v.datSize}) doesn't match the size for ${entries.length} needles read (${want})`,
    );
  }
  return { files: entries.length, problems };
}
