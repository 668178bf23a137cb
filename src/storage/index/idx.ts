// .idx files: a log of fixed-size entries, key(8) offset(4 or 5) size(4), big-endian. The offset
// counts 8-byte units; with 5 bytes the fifth (highest) byte comes last, after the low four.
// A deletion is logged as an entry with the tombstone size (-1), or with a zero offset.

import { indexEntrySize, type OffsetWidth } from "../types.js";

export interface IndexEntry {
  keyHi: number;
  keyLo: number;
  /** Offset in 8-byte units. */
  offset: number;
  size: number;
}

export function readIndexEntry(buf: Buffer, at: number, width: OffsetWidth, out: IndexEntry): IndexEntry {
  out.keyHi = buf.readUInt32BE(at);
  out.keyLo = buf.readUInt32BE(at + 4);
  const low = buf.readUInt32BE(at + 8);
  out.offset = width === 5 ? buf[at + 12]! * 0x100000000 + low : low;
  out.size = buf.readInt32BE(at + 8 + width);
  return out;
}

export function writeIndexEntry(
  buf: Buffer,
  at: number,
  width: OffsetWidth,
  keyHi: number,
  keyLo: number,
  offset: number,
  size: number,
): void {
  buf.writeUInt32BE(keyHi >>> 0, at);
  buf.writeUInt32BE(keyLo >>> 0, at + 4);
  buf.writeUInt32BE(offset % 0x100000000, at + 8);
  if (width === 5) buf[at + 12] = Math.floor(offset / 0x100000000) & 0xff;
  buf.writeInt32BE(size, at + 8 + width);
}

export function encodeIndexEntry(
  width: OffsetWidth,
  keyHi: number,
  keyLo: number,
  offset: number,
  size: number,
): Buffer {
  const buf = Buffer.allocUnsafe(indexEntrySize(width));
  writeIndexEntry(buf, 0, width, keyHi, keyLo, offset, size);
  return buf;
}

/** Calls `visit` for every whole entry of an index image; a partial last entry is ignored. */
export function forEachIndexEntry(
  buf: Buffer,
  width: OffsetWidth,
  visit: (e: IndexEntry, position: number) => void,
): void {
  const entrySize = indexEntrySize(width);
  const entry: IndexEntry = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  const end = buf.length - (buf.length % entrySize);
  for (let at = 0; at < end; at += entrySize) visit(readIndexEntry(buf, at, width, entry), at);
}
