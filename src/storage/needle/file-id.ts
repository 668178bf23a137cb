// File ids: "<volume id>,<needle id hex><cookie 8 hex>", accepted and rejected as weed does, with
// weed's error texts (clients and the conformance suite see them). A trailing "_<n>" on the needle
// part (the "delta") adds n to the needle id, for chunks sharing one assignment.

export class FileIdError extends Error {
  override name = "FileIdError";
}

export interface ParsedFileId {
  volumeId: number;
  keyHi: number;
  keyLo: number;
  cookie: number;
}

export interface NeedleIdCookie {
  keyHi: number;
  keyLo: number;
  cookie: number;
}

const MAX_UINT64 = 0xffffffffffffffffn;
const COOKIE_HEX = 8;
/** Needle id and cookie in hex: at most 16 + 8 digits. */
const MAX_KEY_HASH = 24;

function digitValue(c: number, base: 10 | 16): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (base === 16) {
    if (c >= 97 && c <= 102) return c - 87;
    if (c >= 65 && c <= 70) return c - 55;
  }
  return -1;
}

/**
 * Go's strconv.ParseUint(text, base, bits) for bases 10 and 16: no sign, no prefix, no
 * underscores; a value that overflows is reported as soon as the digits read so far overflow.
 */
export function parseUint(text: string, base: 10 | 16, bits: 32 | 64): bigint {
  const max = bits === 64 ? MAX_UINT64 : 0xffffffffn;
  if (text.length === 0) throw new FileIdError(`strconv.ParseUint: parsing "": invalid syntax`);
  const b = BigInt(base);
  let value = 0n;
  for (let i = 0; i < text.length; i++) {
    const d = digitValue(text.charCodeAt(i), base);
    if (d < 0) throw new FileIdError(`strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
    value = value * b + BigInt(d);
    if (value > max)
      throw new FileIdError(`strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range`);
  }
  return value;
}

/** A volume id: decimal uint64, kept to its low 32 bits as weed's VolumeId conversion does. */
export function parseVolumeId(text: string): number {
  // Fast path for the usual short decimal id (no bigint on the request path).
  if (text.length > 0 && text.length <= 15 && /^[0-9]+$/.test(text)) return Number(text) % 0x100000000;
  return Number(parseUint(text, 10, 64) & 0xffffffffn);
}

function isHex(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (digitValue(text.charCodeAt(i), 16) < 0) return false;
  return true;
}

/**
 * "<key hex><cookie 8 hex>": 9 to 24 hex digits (weed's ParseNeedleIdCookie). On the request path:
 * plain numbers, no bigint.
 */
export function parseNeedleIdCookie(text: string): NeedleIdCookie {
  const length = text.length;
  if (length <= COOKIE_HEX) throw new FileIdError("KeyHash is too short.");
  if (length > MAX_KEY_HASH) throw new FileIdError("KeyHash is too long.");
  const split = length - COOKIE_HEX;
  if (!isHex(text, 0, split)) {
    const keyText = text.slice(0, split);
    throw new FileIdError(
      `Parse needleId error: needle id ${keyText} format error: strconv.ParseUint: parsing ${JSON.stringify(keyText)}: invalid syntax`,
    );
  }
  if (!isHex(text, split, length)) {
    const cookieText = text.slice(split);
    throw new FileIdError(
      `Parse cookie error: needle cookie ${cookieText} format error: strconv.ParseUint: parsing ${JSON.stringify(cookieText)}: invalid syntax`,
    );
  }
  const loStart = Math.max(0, split - 8);
  return {
    keyHi: loStart > 0 ? Number.parseInt(text.slice(0, loStart), 16) : 0,
    keyLo: Number.parseInt(text.slice(loStart, split), 16),
    cookie: Number.parseInt(text.slice(split), 16),
  };
}

/** Go prints a needle id with %x through its String method: the hex of its hex digits. */
function goHexOfKey(key: bigint): string {
  return Buffer.from(key.toString(16), "latin1").toString("hex");
}

/** The needle part of a URL ("key+cookie[_delta]"), as weed's Needle.ParsePath. */
export function parseNeedlePath(fid: string): NeedleIdCookie {
  if (fid.length <= COOKIE_HEX) throw new FileIdError(`Invalid fid: ${fid}`);
  const sep = fid.lastIndexOf("_");
  const body = sep > 0 ? fid.slice(0, sep) : fid;
  const delta = sep > 0 ? fid.slice(sep + 1) : "";
  const parsed = parseNeedleIdCookie(body);
  if (delta !== "") {
    const d = parseUint(delta, 10, 64);
    const key = (BigInt(parsed.keyHi) << 32n) | BigInt(parsed.keyLo);
    if (d > MAX_UINT64 - key) throw new FileIdError(`delta ${d} overflows needle id ${goHexOfKey(key)}`);
    const sum = key + d;
    parsed.keyHi = Number(sum >> 32n);
    parsed.keyLo = Number(sum & 0xffffffffn);
  }
  return parsed;
}

/** "<volume id>,<key+cookie>" (weed's ParseFileIdFromString; no delta here). */
export function parseFileId(fid: string): ParsedFileId {
  const comma = fid.indexOf(",");
  if (comma <= 0) throw new FileIdError("wrong fid format");
  const volumeId = parseVolumeId(fid.slice(0, comma));
  return { volumeId, ...parseNeedleIdCookie(fid.slice(comma + 1)) };
}

/** Key and cookie as weed prints them: 12 bytes in hex with the key's leading zero bytes dropped. */
export function formatNeedleIdCookie(keyHi: number, keyLo: number, cookie: number): string {
  const hex =
    (keyHi >>> 0).toString(16).padStart(8, "0") +
    (keyLo >>> 0).toString(16).padStart(8, "0") +
    (cookie >>> 0).toString(16).padStart(8, "0");
  let start = 0;
  while (start < 16 && hex.startsWith("00", start)) start += 2;
  return hex.slice(start);
}

export function formatFileId(volumeId: number, keyHi: number, keyLo: number, cookie: number): string {
  return `${volumeId >>> 0},${formatNeedleIdCookie(keyHi, keyLo, cookie)}`;
}

/** weed's NeedleId.FileId: the key in even-length hex and a zero cookie. */
export function needleKeyFileId(volumeId: number, keyHi: number, keyLo: number): string {
  let hex = ((BigInt(keyHi >>> 0) << 32n) | BigInt(keyLo >>> 0)).toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return `${volumeId >>> 0},${hex}00000000`;
}
