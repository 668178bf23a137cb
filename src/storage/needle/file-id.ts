// File ids: "<volume id>,<needle id hex><cookie 8 hex>", accepting and rejecting what weed does.
// A trailing "_<n>" (delta) adds n to the needle id, for chunked uploads sharing one assignment.

export class FileIdError extends Error {}

export interface ParsedFileId {
  volumeId: number;
  keyHi: number;
  keyLo: number;
  cookie: number;
}

const HEX = /^[0-9a-fA-F]+$/;

/** strconv.ParseUint(vid, 10, 64), then kept to 32 bits as weed's VolumeId conversion does. */
export function parseVolumeId(text: string): number {
  if (!/^\d+$/.test(text)) throw new FileIdError(`strconv.ParseUint: parsing "${text}": invalid syntax`);
  const v = BigInt(text);
  if (v > 0xffffffffffffffffn)
    throw new FileIdError(`strconv.ParseUint: parsing "${text}": value out of range`);
  return Number(v & 0xffffffffn);
}

function parseHex(text: string, maxDigits: number, what: string): [number, number] {
  if (!HEX.test(text)) throw new FileIdError(`${what} ${text} format error: invalid syntax`);
  const digits = text.replace(/^0+(?=.)/, "");
  if (digits.length > maxDigits) throw new FileIdError(`${what} ${text} format error: value out of range`);
  const lo = Number.parseInt(digits.slice(-8), 16);
  const hi = digits.length > 8 ? Number.parseInt(digits.slice(0, -8), 16) : 0;
  return [hi, lo];
}

/** "<key hex><cookie 8 hex>", 9 to 24 hex digits. */
export function parseNeedleIdCookie(text: string): { keyHi: number; keyLo: number; cookie: number } {
  if (text.length <= 8) throw new FileIdError("KeyHash is too short.");
  if (text.length > 24) throw new FileIdError("KeyHash is too long.");
  const split = text.length - 8;
  let keyHi: number;
  let keyLo: number;
  try {
    [keyHi, keyLo] = parseHex(text.slice(0, split), 16, "needle id");
  } catch (err) {
    throw new FileIdError(`Parse needleId error: ${(err as Error).message}`);
  }
  const cookieText = text.slice(split);
  if (!HEX.test(cookieText)) {
    throw new FileIdError(`Parse cookie error: needle cookie ${cookieText} format error: invalid syntax`);
  }
  return { keyHi, keyLo, cookie: Number.parseInt(cookieText, 16) >>> 0 };
}

/** The fid part of a URL or request ("key+cookie[_delta]"), as weed's Needle.ParsePath. */
export function parseNeedlePath(fid: string): { keyHi: number; keyLo: number; cookie: number } {
  if (fid.length <= 8) throw new FileIdError(`Invalid fid: ${fid}`);
  const sep = fid.lastIndexOf("_");
  const body = sep > 0 ? fid.slice(0, sep) : fid;
  const parsed = parseNeedleIdCookie(body);
  if (sep > 0) {
    const deltaText = fid.slice(sep + 1);
    if (!/^\d+$/.test(deltaText))
      throw new FileIdError(`strconv.ParseUint: parsing "${deltaText}": invalid syntax`);
    const delta = BigInt(deltaText);
    const key = (BigInt(parsed.keyHi) << 32n) | BigInt(parsed.keyLo);
    if (delta > 0xffffffffffffffffn - key) {
      throw new FileIdError(`delta ${deltaText} overflows needle id ${key.toString(16)}`);
    }
    const sum = key + delta;
    parsed.keyHi = Number(sum >> 32n);
    parsed.keyLo = Number(sum & 0xffffffffn);
  }
  return parsed;
}

export function parseFileId(fid: string): ParsedFileId {
  const comma = fid.indexOf(",");
  if (comma <= 0) throw new FileIdError("wrong fid format");
  return { volumeId: parseVolumeId(fid.slice(0, comma)), ...parseNeedleIdCookie(fid.slice(comma + 1)) };
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
  return `${volumeId},${formatNeedleIdCookie(keyHi, keyLo, cookie)}`;
}
