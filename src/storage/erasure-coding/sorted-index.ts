// The .ecx of an EC volume: the volume's .idx reduced to its live needles (the last entry of each
// key, unless that entry deletes it), sorted by needle id, in .idx entry format. Lookups then need
// only a binary search of the file.

import { readFileSync, writeFileSync } from "node:fs";
import { readIndexEntry, writeIndexEntry } from "../index/idx.js";
import { sortByKey } from "../index/key-sort.js";
import { indexEntrySize, type OffsetWidth } from "../types.js";

/** The sorted live entries of an .idx image, as the bytes of an .ecx. */
export function sortedIndexFromIdx(idx: Buffer, width: OffsetWidth): Buffer {
  const entrySize = indexEntrySize(width);
  const count = Math.floor(idx.length / entrySize);
  const keyHi = new Uint32Array(count);
  const keyLo = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    keyHi[i] = idx.readUInt32BE(i * entrySize);
    keyLo[i] = idx.readUInt32BE(i * entrySize + 4);
  }
  // Stable: entries of one key stay in log order, so the last of a run is the one that counts.
  const order = sortByKey(keyHi, keyLo, count);
  const out = Buffer.allocUnsafe(count * entrySize);
  const e = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  let written = 0;
  for (let k = 0; k < count; k++) {
    const i = order[k]!;
    const next = order[k + 1];
    if (next !== undefined && keyHi[next] === keyHi[i] && keyLo[next] === keyLo[i]) continue;
    readIndexEntry(idx, i * entrySize, width, e);
    if (e.offset === 0 || e.size < 0) continue;
    writeIndexEntry(out, written, width, e.keyHi, e.keyLo, e.offset, e.size);
    written += entrySize;
  }
  return out.subarray(0, written);
}

/** Writes <indexBase>.ecx from <indexBase>.idx. */
export function writeSortedIndex(indexBase: string, width: OffsetWidth, to = `${indexBase}.ecx`): void {
  const idx = readFileSync(`${indexBase}.idx`);
  writeFileSync(to, sortedIndexFromIdx(idx, width), { mode: 0o644 });
}

/** Binary search of an .ecx image: the entry position of the needle, or -1. */
export function searchSortedIndex(ecx: Buffer, width: OffsetWidth, keyHi: number, keyLo: number): number {
  const entrySize = indexEntrySize(width);
  let lo = 0;
  let hi = Math.floor(ecx.length / entrySize) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = mid * entrySize;
    const h = ecx.readUInt32BE(at);
    const l = ecx.readUInt32BE(at + 4);
    if (h === keyHi && l === keyLo) return at;
    if (h < keyHi || (h === keyHi && l < keyLo)) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
