// What the LevelDB needle map ("-index=leveldb*") keeps on disk, shared by the map (main thread) and
// the LevelDB worker that owns the database.
//
// Layout, as weed's: the .ldb directory beside the .idx holds one record per needle, key = the needle
// id as 8 big-endian bytes (so byte order is numeric order, across the two 32-bit halves too), value
// = offset (in 8-byte units, laid out as in the .idx: 4 big-endian bytes, then the fifth, highest
// byte with 5-byte offsets) and the size as a big-endian 32-bit word. A deleted needle keeps its
// offset with the size negated (the tombstone size when it was 0), as the memory map does.
//
// Key "idx_entry_watermark" (8-byte big-endian count of .idx entries already applied) is weed's
// restart watermark; weed reads it to replay only the .idx tail. Beside it we keep our own state
// record, one key weed never reads (it never iterates the database): the number of .idx entries
// the database reflects, a checksum of those entries, and the map's counters at that point, so a
// restart replays only the tail and still knows the exact counters. Both are written in the same
// atomic batch as the needle records they describe.

import { crc32c } from "@node-rs/crc32";
import { actualSize, indexEntrySize, type OffsetWidth, TOMBSTONE_FILE_SIZE, type Version } from "../types.js";
import type { NeedleMapStats } from "./needle-map.js";

export type LevelDbKind = "leveldb" | "leveldbMedium" | "leveldbLarge";

/** LevelDB settings of one kind (weed's volume_loading.go: block cache, write buffer, open files). */
export interface LevelDbTuning {
  cacheSize: number;
  writeBufferSize: number;
  maxOpenFiles: number;
  maxFileSize: number;
}

const MiB = 1024 * 1024;
// weed also raises goleveldb's table size tenfold per level (fewer files per volume); C++ LevelDB has
// one table size for all levels, so larger tables stand in for that. C++ LevelDB never keeps fewer
// than 74 open files, whatever maxOpenFiles says.
export const LEVELDB_TUNING: Record<LevelDbKind, LevelDbTuning> = {
  leveldb: { cacheSize: 2 * MiB, writeBufferSize: 1 * MiB, maxOpenFiles: 16, maxFileSize: 8 * MiB },
  leveldbMedium: { cacheSize: 4 * MiB, writeBufferSize: 2 * MiB, maxOpenFiles: 32, maxFileSize: 8 * MiB },
  leveldbLarge: { cacheSize: 8 * MiB, writeBufferSize: 4 * MiB, maxOpenFiles: 64, maxFileSize: 8 * MiB },
};

export const KEY_SIZE = 8;
export const WATERMARK_KEY = Buffer.from("idx_entry_watermark");
export const STATE_KEY = Buffer.from("seaweed-volume-ts/needle-map-state");
/** weed advances its watermark every this many entries. */
export const WATERMARK_STEP = 10000;

export const valueSize = (width: OffsetWidth): number => width + 4;

export function writeKey(buf: Uint8Array, at: number, hi: number, lo: number): void {
  buf[at] = hi >>> 24;
  buf[at + 1] = hi >>> 16;
  buf[at + 2] = hi >>> 8;
  buf[at + 3] = hi;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = lo >>> 16;
  buf[at + 6] = lo >>> 8;
  buf[at + 7] = lo;
}

export function encodeKey(hi: number, lo: number): Buffer {
  const key = Buffer.allocUnsafe(KEY_SIZE);
  writeKey(key, 0, hi, lo);
  return key;
}

export function writeValue(buf: Buffer, at: number, width: OffsetWidth, offset: number, size: number): void {
  buf.writeUInt32BE(offset % 0x100000000, at);
  if (width === 5) buf[at + 4] = Math.floor(offset / 0x100000000) & 0xff;
  buf.writeInt32BE(size | 0, at + width);
}

export function encodeValue(width: OffsetWidth, offset: number, size: number): Buffer {
  const value = Buffer.allocUnsafe(valueSize(width));
  writeValue(value, 0, width, offset, size);
  return value;
}

export const readOffset = (buf: Uint8Array, at: number, width: OffsetWidth): number =>
  ((buf[at]! << 24) >>> 0) +
  (buf[at + 1]! << 16) +
  (buf[at + 2]! << 8) +
  buf[at + 3]! +
  (width === 5 ? buf[at + 4]! * 0x100000000 : 0);

export const readSize = (buf: Uint8Array, at: number): number =>
  (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;

export const readU32 = (buf: Uint8Array, at: number): number => readSize(buf, at) >>> 0;

/** A key for JS maps: exact as a number below 2^53, else a string. */
export const mapKey = (hi: number, lo: number): number | string =>
  hi < 0x200000 ? hi * 0x100000000 + lo : `${hi}:${lo}`;

/** An .idx entry that records a live needle; anything else records a deletion. */
export const isPutRow = (offset: number, size: number): boolean => offset !== 0 && size >= 0;

/** The size a deleted entry keeps: the old size negated, the tombstone size for an empty needle. */
export const deletedSize = (size: number): number => (size === 0 ? TOMBSTONE_FILE_SIZE : -size);

/**
 * The watermark stored with `rows` applied entries: a value weed reads the same way (replay from
 * there) but never writes itself (weed writes multiples of 10000 only, and writes 0 when it opens an
 * empty one), so a later weed run over our database shows as a changed watermark. Undefined: none.
 */
export function watermarkFor(rows: number): number | undefined {
  if (rows === 0) return undefined;
  return rows % WATERMARK_STEP === 0 ? rows - 1 : rows;
}

export function encodeWatermark(rows: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt32BE(Math.floor(rows / 0x100000000), 0);
  buf.writeUInt32BE(rows % 0x100000000, 4);
  return buf;
}

/** The stored watermark, or undefined when missing or not 8 bytes (weed reads those as 0). */
export function decodeWatermark(buf: Uint8Array | undefined): number | undefined {
  if (buf?.length !== 8) return undefined;
  return readU32(buf, 0) * 0x100000000 + readU32(buf, 4);
}

/** Counters as the memory map keeps them, plus the entry count. */
export interface MapCounters extends NeedleMapStats {
  entries: number;
}

export const zeroCounters = (): MapCounters => ({ ...zeroStats(), entries: 0 });

export const zeroStats = (): NeedleMapStats => ({
  fileCount: 0,
  deletedCount: 0,
  fileBytes: 0,
  deletedBytes: 0,
  maxKeyHi: 0,
  maxKeyLo: 0,
  maxNeedleEnd: 0,
});

/** Our state record: what the database reflects, written atomically with it. */
export interface MapState extends MapCounters {
  width: OffsetWidth;
  /** .idx entries applied. */
  rows: number;
  /** rowChecksum of those entries. */
  checksum: number;
  /** The watermark written with this state, -1 for none. */
  watermark: number;
}

const STATE_MAGIC = 0x54; // "T"
const STATE_FORMAT = 1;
const STATE_FIELDS = [
  "rows",
  "watermark",
  "entries",
  "fileCount",
  "deletedCount",
  "fileBytes",
  "deletedBytes",
  "maxNeedleEnd",
] as const;
const STATE_SIZE = 3 + 4 * 3 + 8 * STATE_FIELDS.length;

export function encodeState(s: MapState): Buffer {
  const buf = Buffer.alloc(STATE_SIZE);
  buf[0] = STATE_MAGIC;
  buf[1] = STATE_FORMAT;
  buf[2] = s.width;
  buf.writeUInt32BE(s.checksum >>> 0, 3);
  buf.writeUInt32BE(s.maxKeyHi >>> 0, 7);
  buf.writeUInt32BE(s.maxKeyLo >>> 0, 11);
  for (const [i, f] of STATE_FIELDS.entries()) buf.writeDoubleBE(s[f], 15 + 8 * i);
  return buf;
}

export function decodeState(raw: Uint8Array | undefined): MapState | undefined {
  if (!raw || raw.length !== STATE_SIZE || raw[0] !== STATE_MAGIC || raw[1] !== STATE_FORMAT)
    return undefined;
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (buf[2] !== 4 && buf[2] !== 5) return undefined;
  const s: MapState = {
    ...zeroCounters(),
    width: buf[2],
    checksum: buf.readUInt32BE(3),
    rows: 0,
    watermark: -1,
  };
  s.maxKeyHi = buf.readUInt32BE(7);
  s.maxKeyLo = buf.readUInt32BE(11);
  for (const [i, f] of STATE_FIELDS.entries()) s[f] = buf.readDoubleBE(15 + 8 * i);
  return Number.isSafeInteger(s.rows) && s.rows >= 0 ? s : undefined;
}

/**
 * Checksum of .idx entries as the map sees them: deletions count by key only (the map is not told
 * where the tombstone went), so their offset reads as 0 and their size as the tombstone size.
 */
export function rowChecksum(
  image: Uint8Array,
  from: number,
  to: number,
  width: OffsetWidth,
  seed: number,
): number {
  const es = indexEntrySize(width);
  const chunkRows = 4096;
  const scratch = Buffer.allocUnsafe(chunkRows * es);
  let sum = seed;
  for (let row = from; row < to; row += chunkRows) {
    const n = Math.min(chunkRows, to - row);
    scratch.set(image.subarray(row * es, (row + n) * es));
    for (let at = 0; at < n * es; at += es) {
      if (!isPutRow(readOffset(scratch, at + 8, width), readSize(scratch, at + 8 + width)))
        scratch.fill(0, at + 8, at + 8 + width).fill(0xff, at + 8 + width, at + es);
    }
    sum = crc32c(scratch.subarray(0, n * es), sum);
  }
  return sum;
}

/** The checksum step for one entry recorded at run time. */
export function rowChecksumStep(
  scratch: Buffer,
  width: OffsetWidth,
  hi: number,
  lo: number,
  offset: number,
  size: number,
  seed: number,
): number {
  writeKey(scratch, 0, hi, lo);
  if (isPutRow(offset, size)) writeValue(scratch, 8, width, offset, size);
  else scratch.fill(0, 8, 8 + width).fill(0xff, 8 + width, 12 + width);
  return crc32c(scratch.subarray(0, 12 + width), seed);
}

export function noteKey(s: NeedleMapStats, hi: number, lo: number): void {
  hi >>>= 0;
  lo >>>= 0;
  if (hi > s.maxKeyHi || (hi === s.maxKeyHi && lo > s.maxKeyLo)) {
    s.maxKeyHi = hi;
    s.maxKeyLo = lo;
  }
}

/**
 * Counts a put over an entry of size `old` (undefined: none), as the memory map does; true when
 * the put adds an entry.
 */
export function countPut(
  s: NeedleMapStats,
  hi: number,
  lo: number,
  offset: number,
  size: number,
  old: number | undefined,
  version: Version,
): boolean {
  if (old !== undefined && old > 0) {
    s.deletedCount++;
    s.deletedBytes += old;
  }
  s.fileCount++;
  s.fileBytes += size;
  noteKey(s, hi, lo);
  if (offset !== 0 && size > 0) {
    const end = offset * 8 + actualSize(size, version);
    if (end > s.maxNeedleEnd) s.maxNeedleEnd = end;
  }
  return old === undefined;
}

/** Counts a deletion of an entry of size `old`; returns the size that was live (0: nothing was). */
export function countRemove(s: NeedleMapStats, old: number | undefined): number {
  if (old === undefined || old < 0) return 0;
  if (old > 0) {
    s.deletedCount++;
    s.deletedBytes += old;
  }
  return old;
}
