// Walking a volume's records in append order, and finding where a follower should resume: by
// append time (weed's BinarySearchByAppendAtNs) or by index position (ResumeByLastEntry). Used by
// ReadAllNeedles, tails, incremental copies and `weed backup`.

import { readIndexEntry } from "../index/idx.js";
import { parseHeader } from "../needle/needle.js";
import {
  actualSize,
  indexEntrySize,
  NEEDLE_CHECKSUM_SIZE,
  NEEDLE_HEADER_SIZE,
  needleBodyLength,
  type OffsetWidth,
} from "../types.js";
import { superBlockSize } from "./super-block.js";
import type { Volume } from "./volume.js";

export interface RecordHeader {
  /** Byte offset of the record in the .dat. */
  offset: number;
  keyHi: number;
  keyLo: number;
  cookie: number;
  size: number;
  /** Bytes of the whole record, padding included. */
  length: number;
}

/** The records from `from` (default: just after the super block) to the end of the .dat. */
export function* records(v: Volume, from = superBlockSize(v.superBlock)): Generator<RecordHeader> {
  let at = from;
  while (at + NEEDLE_HEADER_SIZE <= v.datSize) {
    const h = parseHeader(v.readData(at, 0, NEEDLE_HEADER_SIZE));
    if (h.size < 0) return;
    const length = actualSize(h.size, v.version);
    if (at + length > v.datSize) return;
    yield { offset: at, ...h, length };
    at += length;
  }
}

/** A record's append time, read from its tail (0 before version 3, which has none). */
export function appendAtNsAt(v: Volume, offset: number): bigint {
  if (v.version < 3) return 0n;
  const { size } = parseHeader(v.readData(offset, 0, NEEDLE_HEADER_SIZE));
  const at = offset + NEEDLE_HEADER_SIZE + Math.max(0, size) + NEEDLE_CHECKSUM_SIZE;
  return v.readData(at, 0, 8).readBigUInt64BE(0);
}

interface Entry {
  keyHi: number;
  keyLo: number;
  offset: number;
  size: number;
}

/** Reads index entry `i` of the volume's .idx. */
function entryAt(v: Volume, i: number, out: Entry): Entry {
  const size = indexEntrySize(v.width);
  return readIndexEntry(v.readIndex(i * size, size), 0, v.width, out);
}

function entryCount(v: Volume): number {
  const size = indexEntrySize(v.width);
  if (v.indexSize % size !== 0) throw new Error(`unexpected file ${v.fileName(".idx")} size: ${v.indexSize}`);
  return v.indexSize / size;
}

/**
 * The byte offset of the first record appended after `sinceNs`, by binary search over the index
 * (its entries are in append order); undefined when nothing newer exists. Entries without a
 * record (offset 0) carry no time and are stepped over.
 */
export function firstOffsetAfter(v: Volume, sinceNs: bigint): number | undefined {
  const count = entryCount(v);
  const e: Entry = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  const timedFrom = (i: number): { index: number; offset: number; ns: bigint } | undefined => {
    for (let j = i; j < count; j++) {
      if (entryAt(v, j, e).offset !== 0) {
        const offset = e.offset * 8;
        return { index: j, offset, ns: appendAtNsAt(v, offset) };
      }
    }
    return undefined;
  };
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const t = timedFrom(mid);
    if (!t) high = mid;
    else if (t.ns <= sinceNs) low = t.index + 1;
    else high = mid;
  }
  return timedFrom(low)?.offset;
}

/** FNV-1a, 64 bits, kept as two 32-bit halves so no BigInt is made per byte. */
class Fnv1a64 {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;

  update(bytes: Buffer, start: number, end: number): void {
    let { hi, lo } = this;
    for (let i = start; i < end; i++) {
      lo = (lo ^ bytes[i]!) >>> 0;
      // h * (2^40 + 0x1b3) mod 2^64
      const loProduct = lo * 0x1b3;
      const carry = Math.floor(loProduct / 0x100000000);
      hi = (hi * 0x1b3 + carry + lo * 256) % 0x100000000;
      lo = loProduct % 0x100000000;
    }
    this.hi = hi;
    this.lo = lo;
  }

  digest(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

/** The hash of the (key, size) bytes of the first `count` index entries, as weed backup sends it. */
export function hashIndexEntries(v: Volume, count: number): bigint {
  const size = indexEntrySize(v.width);
  const offsetBytes = v.width;
  const h = new Fnv1a64();
  const perRead = Math.floor((1 << 20) / size);
  for (let first = 0; first < count; first += perRead) {
    const n = Math.min(perRead, count - first);
    const buf = v.readIndex(first * size, n * size);
    for (let i = 0; i < n * size; i += size) {
      h.update(buf, i, i + 8);
      h.update(buf, i + 8 + offsetBytes, i + size);
    }
  }
  return h.digest();
}

export class IncrementalCopyDiverged extends Error {
  constructor() {
    super("local copy diverged from the replica");
  }
}

/**
 * Resumes a backup that holds this volume's first `entryCount` index entries: checks the last of
 * them (key, size, and cookie when it has a record) and the hash of them all, then returns the
 * offset of the next entry with a record. `upToDate` when the backup has every entry.
 */
export function resumeByLastEntry(
  v: Volume,
  args: { entryCount: number; keyHi: number; keyLo: number; cookie: number; size: number; hash: bigint },
  indexBound: number,
): { offset: number; upToDate: boolean } {
  const count = entryCount(v);
  if (count < args.entryCount) throw new IncrementalCopyDiverged();
  const e: Entry = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  entryAt(v, args.entryCount - 1, e);
  if (e.keyHi !== args.keyHi || e.keyLo !== args.keyLo || e.size !== args.size) {
    throw new IncrementalCopyDiverged();
  }
  if (e.offset !== 0) {
    const { cookie } = parseHeader(v.readData(e.offset * 8, 0, NEEDLE_HEADER_SIZE));
    if (cookie !== args.cookie) throw new IncrementalCopyDiverged();
  }
  if (hashIndexEntries(v, args.entryCount) !== args.hash) throw new IncrementalCopyDiverged();
  if (count === args.entryCount) return { offset: 0, upToDate: true };
  const end = Math.min(count, Math.floor(indexBound / indexEntrySize(v.width)));
  for (let i = args.entryCount; i < end; i++) {
    if (entryAt(v, i, e).offset !== 0) return { offset: e.offset * 8, upToDate: false };
  }
  return { offset: 0, upToDate: false };
}

/**
 * The end of the last record the first `indexBytes` of the index cover: records appended but not
 * yet indexed stay out of an incremental copy, or the backup would append them twice.
 */
export function datSizeCoveredByIndex(v: Volume, indexBytes: number): number {
  const size = indexEntrySize(v.width);
  const rows = Math.floor(indexBytes / size);
  const e: Entry = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  let maxOffset = -1;
  const perRead = Math.floor((1 << 20) / size);
  for (let first = 0; first < rows; first += perRead) {
    const n = Math.min(perRead, rows - first);
    const buf = v.readIndex(first * size, n * size);
    for (let i = 0; i < n; i++) {
      readIndexEntry(buf, i * size, v.width, e);
      if (e.offset !== 0 && e.offset * 8 > maxOffset) maxOffset = e.offset * 8;
    }
  }
  if (maxOffset < 0) return superBlockSize(v.superBlock);
  const { size: recordSize } = parseHeader(v.readData(maxOffset, 0, NEEDLE_HEADER_SIZE));
  return maxOffset + NEEDLE_HEADER_SIZE + needleBodyLength(recordSize, v.version);
}

/** The append time of the last indexed record in copied .idx/.dat bytes (0 when unknown). */
export function lastAppendAtNsOfFiles(
  readIdx: (position: number, length: number) => Buffer,
  idxSize: number,
  readDat: (position: number, length: number) => Buffer,
  width: OffsetWidth,
  version: number,
): bigint {
  const size = indexEntrySize(width);
  if (version < 3 || idxSize === 0 || idxSize % size !== 0) return 0n;
  const e = readIndexEntry(readIdx(idxSize - size, size), 0, width, {
    keyHi: 0,
    keyLo: 0,
    offset: 0,
    size: 0,
  });
  if (e.offset === 0) return 0n;
  const at = e.offset * 8;
  const { size: recordSize } = parseHeader(readDat(at, NEEDLE_HEADER_SIZE));
  return readDat(at + NEEDLE_HEADER_SIZE + Math.max(0, recordSize) + NEEDLE_CHECKSUM_SIZE, 8).readBigUInt64BE(
    0,
  );
}
