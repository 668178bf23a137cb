// Time-to-live as SeaweedFS encodes it: a count (1 byte) and a unit (1 byte: minute, hour, day,
// week, month, year). Parsing picks the largest unit that represents the duration exactly, as weed.

export enum TtlUnit {
  Empty = 0,
  Minute = 1,
  Hour = 2,
  Day = 3,
  Week = 4,
  Month = 5,
  Year = 6,
}

export interface Ttl {
  count: number;
  unit: number;
}

export const EMPTY_TTL: Ttl = Object.freeze({ count: 0, unit: TtlUnit.Empty });

const UNIT_SECONDS = [0, 60, 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400];
const UNIT_LETTERS = ["", "m", "h", "d", "w", "M", "y"];

export function ttlSeconds(ttl: Ttl): number {
  return ttl.count * (UNIT_SECONDS[ttl.unit] ?? 0);
}

/** Whole minutes, as weed's TTL.Minutes (0 for an unknown unit). */
export function ttlMinutes(ttl: Ttl): number {
  return ttlSeconds(ttl) / 60;
}

export function isEmptyTtl(ttl: Ttl): boolean {
  return ttl.count === 0 || ttl.unit === TtlUnit.Empty;
}

const MAX_INT64 = 0x7fffffffffffffffn;

/**
 * weed's fit: the largest unit holding the seconds exactly in under 256 counts, else the smallest
 * unit whose (rounded down) count fits. Seconds are uint64 as in Go, so negative counts wrap.
 */
function fitSeconds(seconds: bigint): Ttl {
  if (seconds === 0n) return EMPTY_TTL;
  for (let unit = TtlUnit.Year; unit >= TtlUnit.Hour; unit--) {
    const per = BigInt(UNIT_SECONDS[unit]!);
    if (seconds % per === 0n && seconds / per < 256n) return { count: Number(seconds / per), unit };
  }
  for (let unit = TtlUnit.Minute; unit <= TtlUnit.Year; unit++) {
    const count = seconds / BigInt(UNIT_SECONDS[unit]!);
    if (count < 256n) return { count: Number(count), unit };
  }
  return EMPTY_TTL;
}

export class TtlError extends Error {
  override name = "TtlError";
}

/** Go's strconv.Atoi: optional sign, decimal digits, int64 range. */
function atoi(text: string): bigint {
  if (!/^[+-]?[0-9]+$/.test(text))
    throw new TtlError(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const v = BigInt(text);
  if (v > MAX_INT64 || v < -MAX_INT64 - 1n)
    throw new TtlError(`strconv.Atoi: parsing ${JSON.stringify(text)}: value out of range`);
  return v;
}

/**
 * "3m", "4h", "5d", "6w", "7M", "8y", or a bare number of minutes; "" is no TTL. An unknown unit
 * letter gives no TTL (as weed), a count that is not a number is an error.
 */
export function parseTtl(text: string): Ttl {
  if (text === "") return EMPTY_TTL;
  const last = text[text.length - 1]!;
  const numeric = last >= "0" && last <= "9";
  const count = atoi(numeric ? text : text.slice(0, -1));
  const unit = numeric ? TtlUnit.Minute : Math.max(0, UNIT_LETTERS.indexOf(last));
  return fitSeconds(BigInt.asUintN(64, count * BigInt(UNIT_SECONDS[unit] ?? 0)));
}

export function formatTtl(ttl: Ttl): string {
  if (isEmptyTtl(ttl)) return "";
  const letter = UNIT_LETTERS[ttl.unit];
  return letter ? `${ttl.count}${letter}` : "";
}

export function ttlFromBytes(bytes: Uint8Array, at = 0): Ttl {
  const count = bytes[at]!;
  const unit = bytes[at + 1]!;
  return count === 0 && unit === 0 ? EMPTY_TTL : { count, unit };
}

export function ttlToUint32(ttl: Ttl): number {
  return ttl.count === 0 ? 0 : (ttl.count << 8) | ttl.unit;
}

export function ttlFromUint32(value: number): Ttl {
  return ttlFromBytes(new Uint8Array([(value >>> 8) & 0xff, value & 0xff]));
}
