// -minFreeSpace / -minFreeSpacePercent values as weed reads them: a number up to 100 is a percentage,
// anything else a byte size with an optional unit ("10GiB", "500M", "1,000,000").

import type { MinFreeSpace } from "../config/volume-server-options.js";

const UNITS: Record<string, number> = {};
for (const [i, letter] of ["", "k", "m", "g", "t", "p", "e"].entries()) {
  const si = 1000 ** i;
  const iec = 1024 ** i;
  UNITS[letter] = si;
  UNITS[`${letter}b`] = si;
  if (letter !== "") {
    UNITS[`${letter}i`] = iec;
    UNITS[`${letter}ib`] = iec;
  }
}
UNITS["b"] = 1;
UNITS[""] = 1;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseMinFreeSpace(input: string): MinFreeSpace | undefined {
  const s = input.trim();
  if (DECIMAL.test(s)) {
    const percent = Number(s);
    return percent < 0 || percent > 100 ? undefined : { kind: "percent", percent, raw: s };
  }
  const bytes = parseBytes(s);
  if (bytes === undefined || bytes <= 100) return undefined;
  return { kind: "bytes", bytes, raw: s };
}

/** A leading number (digits, '.', ',') followed by an optional unit, case-insensitive. */
export function parseBytes(s: string): number | undefined {
  const m = /^([\d.,]*)(.*)$/s.exec(s)!;
  const num = m[1]!.replaceAll(",", "");
  if (!DECIMAL.test(num)) return undefined;
  const unit = UNITS[m[2]!.trim().toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(num) * unit);
}
