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

export function ttlMinutes(ttl: Ttl): number {
  return ttlSeconds(ttl) / 60;
}

export function isEmptyTtl(ttl: Ttl): boolean {
  return ttl.count === 0 || ttl.unit === TtlUnit.Empty;
}

/** The largest unit that holds `seconds` exactly in under 256 counts, else the smallest that fits. */
function fitSeconds(seconds: number): Ttl {
  if (seconds <= 0) return EMPTY_TTL;
  for (let unit = TtlUnit.Year; unit >= TtlUnit.Hour; unit--) {
    const per = UNIT_SECONDS[unit]!;
    if (seconds % per === 0 && seconds / per < 256) return { count: seconds / per, unit };
  }
  for (let unit = TtlUnit.Minute; unit <= TtlUnit.Year; unit++) {
    const count = Math.floor(seconds / UNIT_SECONDS[unit]!);
    if (count < 256) return { count, unit };
  }
  return EMPTY_TTL;
}

export class TtlError extends Error {}

/** "3m", "4h", "5d", "6w", "7M", "8y", or a bare number of minutes. "" is no TTL. */
export function parseTtl(text: string): Ttl {
  if (text === "") return EMPTY_TTL;
  const last = text[text.length - 1]!;
  const numeric = last >= "0" && last <= "9";
  const countText = numeric ? text : text.slice(0, -1);
  const unit = numeric ? TtlUnit.Minute : UNIT_LETTERS.indexOf(last);
  if (!/^[+-]?\d+$/.test(countText)) throw new TtlError(`invalid ttl ${text}`);
  const count = Number(countText);
  return fitSeconds(count * (unit > 0 ? UNIT_SECONDS[unit]! : 0));
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
