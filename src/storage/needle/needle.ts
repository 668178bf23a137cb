// A needle: one stored blob with its metadata, in the byte layout of SeaweedFS versions 1, 2 and 3.
//
//   header   cookie(4) id(8) size(4)
//   body v1  data(size)
//   body v2+ dataSize(4) data flags(1) [nameLen(1) name] [mimeLen(1) mime] [lastModified(5)]
//            [ttl(2)] [pairsLen(2) pairs]              (all absent when dataSize is 0)
//   tail     checksum(4) [appendAtNs(8), v3] padding(1..8) to a multiple of 8
//
// The padding bytes are whatever weed's scratch buffer held (parts of the header and tail), not
// zeros; we reproduce them so that the files we write are byte-identical to weed's.

import {
  NEEDLE_CHECKSUM_SIZE,
  NEEDLE_HEADER_SIZE,
  needleBodyLength,
  paddingLength,
  TIMESTAMP_SIZE,
  type Version,
} from "../types.js";
import { maskedCrc, needleCrc } from "./crc.js";
import {
  FLAG_HAS_LAST_MODIFIED,
  FLAG_HAS_MIME,
  FLAG_HAS_NAME,
  FLAG_HAS_PAIRS,
  FLAG_HAS_TTL,
  LAST_MODIFIED_BYTES,
} from "./needle-flags.js";
import { keyToHex } from "./needle-id.js";
import { EMPTY_TTL, isEmptyTtl, type Ttl, ttlFromBytes } from "./ttl.js";

export {
  FLAG_CHUNK_MANIFEST,
  FLAG_COMPRESSED,
  FLAG_HAS_LAST_MODIFIED,
  FLAG_HAS_MIME,
  FLAG_HAS_NAME,
  FLAG_HAS_PAIRS,
  FLAG_HAS_TTL,
  hasFlag,
  isChunkManifest,
  isCompressed,
} from "./needle-flags.js";

const EMPTY = Buffer.alloc(0);

export interface Needle {
  cookie: number;
  keyHi: number;
  keyLo: number;
  /** The size field: body bytes for v2/v3 (0 when there is no data), data bytes for v1. */
  size: number;
  data: Buffer;
  flags: number;
  name: Buffer;
  mime: Buffer;
  /** Unix seconds, 0 when absent. */
  lastModified: number;
  ttl: Ttl;
  pairs: Buffer;
  checksum: number;
  /** Nanoseconds since the epoch when the needle was appended (v3), 0n otherwise. */
  appendAtNs: bigint;
}

export class NeedleError extends Error {
  constructor(
    message: string,
    readonly kind: "corrupted" | "size-mismatch" | "crc",
  ) {
    super(message);
    this.name = "NeedleError";
  }
}

export function newNeedle(fields: Partial<Needle> = {}): Needle {
  return {
    cookie: 0,
    keyHi: 0,
    keyLo: 0,
    size: 0,
    data: EMPTY,
    flags: 0,
    name: EMPTY,
    mime: EMPTY,
    lastModified: 0,
    ttl: EMPTY_TTL,
    pairs: EMPTY,
    checksum: 0,
    appendAtNs: 0n,
    ...fields,
  };
}

/** The size field weed computes for a needle about to be written. */
export function bodySize(n: Needle, version: Version): number {
  if (version === 1) return n.data.length;
  if (n.data.length === 0) return 0;
  if (n.pairs.length > 0xffff && n.flags & FLAG_HAS_PAIRS)
    throw new NeedleError(`needle pairs of ${n.pairs.length} bytes exceed 65535`, "corrupted");
  // Its length goes in one byte: a longer mime would be written whole after a wrapped length and
  // make the rest of the record unreadable (uploads keep only mimes under 256 bytes, as weed).
  if (n.mime.length > 0xff && n.flags & FLAG_HAS_MIME)
    throw new NeedleError(`needle mime of ${n.mime.length} bytes exceeds 255`, "corrupted");
  let size = 4 + n.data.length + 1;
  if (n.flags & FLAG_HAS_NAME) size += 1 + Math.min(n.name.length, 255);
  if (n.flags & FLAG_HAS_MIME) size += 1 + n.mime.length;
  if (n.flags & FLAG_HAS_LAST_MODIFIED) size += LAST_MODIFIED_BYTES;
  if (n.flags & FLAG_HAS_TTL) size += 2;
  if (n.flags & FLAG_HAS_PAIRS) size += 2 + n.pairs.length;
  return size;
}

/**
 * Serializes a needle into the buffers to write, in order: header and metadata are small fresh
 * buffers, the data buffer is passed through uncopied. Sets `size` on the needle, and `checksum`
 * when it has data. A needle without data keeps the checksum it carries: weed's deletes write the
 * deleted needle's checksum into the tombstone.
 */
export function encodeNeedle(n: Needle, version: Version): { parts: Buffer[]; length: number } {
  if (n.data.length > 0) n.checksum = needleCrc(n.data);
  n.size = bodySize(n, version);
  // weed writes every small field through one scratch buffer and pads from what it holds after.
  const scratch = Buffer.alloc(version === 1 ? NEEDLE_HEADER_SIZE : NEEDLE_HEADER_SIZE + TIMESTAMP_SIZE);
  scratch.writeUInt32BE(n.cookie >>> 0, 0);
  scratch.writeUInt32BE(n.keyHi >>> 0, 4);
  scratch.writeUInt32BE(n.keyLo >>> 0, 8);
  scratch.writeInt32BE(n.size, 12);
  const parts: Buffer[] = [Buffer.from(scratch.subarray(0, NEEDLE_HEADER_SIZE))];

  if (version === 1) {
    if (n.data.length > 0) parts.push(n.data);
  } else if (n.data.length > 0) {
    const meta: number[] = [];
    scratch.writeUInt32BE(n.data.length, 0);
    parts.push(Buffer.from(scratch.subarray(0, 4)), n.data);
    scratch[0] = n.flags;
    meta.push(n.flags);
    const bytes: Buffer[] = [];
    if (n.flags & FLAG_HAS_NAME) {
      const nameLen = Math.min(n.name.length, 255);
      scratch[0] = nameLen;
      bytes.push(Buffer.from([nameLen]), n.name.subarray(0, nameLen));
    }
    if (n.flags & FLAG_HAS_MIME) {
      scratch[0] = n.mime.length;
      bytes.push(Buffer.from([n.mime.length]), n.mime);
    }
    if (n.flags & FLAG_HAS_LAST_MODIFIED) {
      scratch.writeUInt32BE(Math.floor(n.lastModified / 0x100000000) >>> 0, 0);
      scratch.writeUInt32BE(n.lastModified >>> 0, 4);
      bytes.push(Buffer.from(scratch.subarray(8 - LAST_MODIFIED_BYTES, 8)));
    }
    if (n.flags & FLAG_HAS_TTL) {
      scratch[0] = n.ttl.count;
      scratch[1] = n.ttl.unit;
      bytes.push(Buffer.from(scratch.subarray(0, 2)));
    }
    if (n.flags & FLAG_HAS_PAIRS) {
      scratch.writeUInt16BE(n.pairs.length, 0);
      bytes.push(Buffer.from(scratch.subarray(0, 2)), n.pairs);
    }
    parts.push(Buffer.from(meta), ...bytes);
  }

  const padding = paddingLength(n.size, version);
  scratch.writeUInt32BE(n.checksum, 0);
  let tailLength = NEEDLE_CHECKSUM_SIZE;
  if (version === 3) {
    scratch.writeBigUInt64BE(n.appendAtNs, NEEDLE_CHECKSUM_SIZE);
    tailLength += TIMESTAMP_SIZE;
  }
  parts.push(Buffer.from(scratch.subarray(0, tailLength + padding)));
  return { parts, length: NEEDLE_HEADER_SIZE + needleBodyLength(n.size, version) };
}

export function encodeNeedleToBuffer(n: Needle, version: Version): Buffer {
  const { parts, length } = encodeNeedle(n, version);
  return Buffer.concat(parts, length);
}

export function parseHeader(
  buf: Buffer,
  at = 0,
): { cookie: number; keyHi: number; keyLo: number; size: number } {
  return {
    cookie: buf.readUInt32BE(at),
    keyHi: buf.readUInt32BE(at + 4),
    keyLo: buf.readUInt32BE(at + 8),
    size: buf.readInt32BE(at + 12),
  };
}

/** Parses the v2/v3 body (everything the size field covers). */
function parseBodyV2(n: Needle, buf: Buffer, start: number, end: number): void {
  let i = start;
  if (i < end) {
    if (i + 4 > end) throw new NeedleError("needle body too short for its data size", "corrupted");
    const dataSize = buf.readUInt32BE(i);
    i += 4;
    if (dataSize + i > end) throw new NeedleError("index out of range 1: needle data corrupted", "corrupted");
    n.data = buf.subarray(i, i + dataSize);
    i += dataSize;
  }
  parseMetaAfterData(n, buf, i, end);
}

/** Parses flags, name, mime, last-modified, TTL and pairs: the body after the data bytes. */
export function parseMetaAfterData(n: Needle, buf: Buffer, start: number, end: number): void {
  let i = start;
  const corrupted = (step: number) =>
    new NeedleError(`index out of range ${step}: needle data corrupted`, "corrupted");
  if (i < end) n.flags = buf[i++]!;
  if (i < end && n.flags & FLAG_HAS_NAME) {
    const len = buf[i++]!;
    if (len + i > end) throw corrupted(2);
    n.name = buf.subarray(i, i + len);
    i += len;
  }
  if (i < end && n.flags & FLAG_HAS_MIME) {
    const len = buf[i++]!;
    if (len + i > end) throw corrupted(3);
    n.mime = buf.subarray(i, i + len);
    i += len;
  }
  if (i < end && n.flags & FLAG_HAS_LAST_MODIFIED) {
    if (LAST_MODIFIED_BYTES + i > end) throw corrupted(4);
    n.lastModified = buf.readUIntBE(i, LAST_MODIFIED_BYTES);
    i += LAST_MODIFIED_BYTES;
  }
  if (i < end && n.flags & FLAG_HAS_TTL) {
    if (2 + i > end) throw corrupted(5);
    n.ttl = ttlFromBytes(buf, i);
    i += 2;
  }
  if (i < end && n.flags & FLAG_HAS_PAIRS) {
    if (2 + i > end) throw corrupted(6);
    const len = buf.readUInt16BE(i);
    i += 2;
    if (len + i > end) throw corrupted(7);
    n.pairs = buf.subarray(i, i + len);
  }
}

/**
 * Parses a whole needle record (header through padding) and verifies its checksum. `expectedSize`
 * is the size the index recorded; a different size in the header is a size mismatch.
 */
export function parseNeedle(buf: Buffer, version: Version, expectedSize?: number): Needle {
  if (buf.length < NEEDLE_HEADER_SIZE) throw new NeedleError("needle header truncated", "corrupted");
  const n = newNeedle(parseHeader(buf));
  if (expectedSize !== undefined && n.size !== expectedSize) {
    throw new NeedleError(
      `size mismatch: entry not found: found id ${keyToHex(n.keyHi, n.keyLo)} size ${n.size}, expected size ${expectedSize}`,
      "size-mismatch",
    );
  }
  const bodyEnd = NEEDLE_HEADER_SIZE + n.size;
  if (n.size < 0 || bodyEnd + NEEDLE_CHECKSUM_SIZE + (version === 3 ? TIMESTAMP_SIZE : 0) > buf.length) {
    throw new NeedleError(`needle size ${n.size} out of range for ${buf.length} bytes`, "corrupted");
  }
  if (version === 1) n.data = buf.subarray(NEEDLE_HEADER_SIZE, bodyEnd);
  else parseBodyV2(n, buf, NEEDLE_HEADER_SIZE, bodyEnd);
  readTail(n, buf, bodyEnd, version);
  return n;
}

export function readTail(n: Needle, buf: Buffer, at: number, version: Version): void {
  const stored = buf.readUInt32BE(at);
  if (n.data.length > 0) {
    const actual = needleCrc(n.data);
    if (stored !== actual && stored !== maskedCrc(actual)) {
      throw new NeedleError(
        `invalid CRC for needle ${keyToHex(n.keyHi, n.keyLo)} (got ${actual.toString(16).padStart(8, "0")}, want ${stored.toString(16).padStart(8, "0")}), data on disk corrupted: needle data corrupted`,
        "crc",
      );
    }
    n.checksum = actual;
  } else {
    n.checksum = stored;
  }
  if (version === 3) n.appendAtNs = buf.readBigUInt64BE(at + NEEDLE_CHECKSUM_SIZE);
}

export function needleHasTtl(n: Needle): boolean {
  return (n.flags & FLAG_HAS_TTL) !== 0 && !isEmptyTtl(n.ttl);
}
