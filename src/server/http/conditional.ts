// Validators of a needle read and the conditional requests weed honours with them
// (weed/server/volume_server_handlers_read.go: GetOrHeadHandler, notModified; common.go: ifRangeMatches;
// filer_server_handlers_read.go: etagListMatches).
//
//   ETag           "<crc>", the needle checksum as 8 lower-case hex digits, quoted
//   Last-Modified  IMF-fixdate of the needle's unix seconds, only when they are not 0
//   If-None-Match  when present (even empty) it alone decides: "*" or a list entry equal to the ETag
//                  under weak comparison gives 304; If-Modified-Since is then ignored
//   If-Modified-Since  only an exact IMF-fixdate (Go's time.Parse(http.TimeFormat)) counts; 304 when
//                  its second is at or after Last-Modified
//   If-Range       a strong ETag equal to ours, or any HTTP date (three formats) equal to Last-Modified;
//                  otherwise the Range header is ignored and the whole body is sent
// Everything here is pure and cheap: a plain read with no validators costs two property lookups.

/** The ETag header weed sends for a needle: its stored 32-bit checksum as 8 hex digits, quoted. */
export function needleEtag(checksum: number): string {
  return `"${(checksum >>> 0).toString(16).padStart(8, "0")}"`;
}

// Most reads of a hot needle share its second, so keep the last formatted date.
let lastSeconds = Number.NaN;
let lastText = "";

/**
 * An HTTP date (IMF-fixdate, "Tue, 14 Nov 2023 22:13:20 GMT") from unix seconds, as Go's
 * http.TimeFormat prints it (years past 9999 print all their digits, as toUTCString does).
 * weed sets Last-Modified only when the needle's seconds are not 0.
 */
export function httpDate(unixSeconds: number): string {
  if (unixSeconds !== lastSeconds) {
    lastText = new Date(unixSeconds * 1000).toUTCString();
    lastSeconds = unixSeconds;
  }
  return lastText;
}

/** An instant parsed from an HTTP date: whole unix seconds and the nanoseconds past them. */
export interface HttpTime {
  sec: number;
  nsec: number;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function headerText(v: string | string[] | undefined): string | undefined {
  // Node joins repeated If-None-Match lines with ", "; Go joins its values with "," — same list.
  return Array.isArray(v) ? v.join(",") : v;
}

/**
 * weed's answer to a read's conditional headers, given the needle's ETag (quoted or not: the quotes
 * are ignored in the comparison) and Last-Modified seconds (0 = none). `headers` are Node's
 * lower-cased request headers.
 */
export function checkConditional(
  headers: Headers,
  etag: string,
  lastModifiedSeconds: number,
): "not-modified" | "proceed" {
  const inm = headerText(headers["if-none-match"]);
  if (inm !== undefined) return etagListMatches(inm, etag) ? "not-modified" : "proceed";
  const ims = headerText(headers["if-modified-since"]);
  if (!ims || lastModifiedSeconds === 0) return "proceed";
  const t = parseHttpDate(ims);
  return t !== undefined && t.sec >= lastModifiedSeconds ? "not-modified" : "proceed";
}

function isSpace(c: number): boolean {
  // ASCII white space as Go's strings.TrimSpace sees it: \t \n \v \f \r and space.
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function trimmed(s: string, from: number, to: number): string {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return s.slice(from, to);
}

/** An entity tag with one leading and one trailing quote removed, as weed compares them. */
function opaque(tag: string): string {
  const from = tag.charCodeAt(0) === 0x22 ? 1 : 0;
  const to = tag.length > from && tag.charCodeAt(tag.length - 1) === 0x22 ? tag.length - 1 : tag.length;
  return from === 0 && to === tag.length ? tag : tag.slice(from, to);
}

/**
 * If-None-Match against our ETag with the weak comparison: "*" alone matches anything; otherwise the
 * list is split on commas outside quotes, each entry trimmed, a "W/" dropped, empty entries skipped,
 * and the rest compared with the quotes stripped.
 */
export function etagListMatches(header: string, etag: string): boolean {
  if (trimmed(header, 0, header.length) === "*") return true;
  const want = opaque(etag);
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= header.length; i++) {
    const c = i < header.length ? header.charCodeAt(i) : 0x2c;
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x2c && (!quoted || i === header.length)) {
      let tag = trimmed(header, start, i);
      start = i + 1;
      if (tag.startsWith("W/")) tag = tag.slice(2);
      if (tag !== "" && opaque(tag) === want) return true;
    }
  }
  return false;
}

/**
 * If-Range (RFC 9110 13.1.5) as weed checks it against the response's own ETag and Last-Modified
 * headers: absent or blank passes; a value starting with `"` or `W/` must equal a strong ETag exactly;
 * anything else must parse as an HTTP date at the same instant as Last-Modified.
 */
export function ifRangeMatches(
  ifRange: string | undefined,
  etag: string | undefined,
  lastModified: string | undefined,
): boolean {
  if (ifRange === undefined) return true;
  const v = trimmed(ifRange, 0, ifRange.length);
  if (v === "") return true;
  if (v.startsWith('"') || v.startsWith("W/")) {
    return etag !== undefined && etag !== "" && !etag.startsWith("W/") && v === etag;
  }
  const date = parseHttpTime(v);
  if (date === undefined || lastModified === undefined) return false;
  const lm = parseHttpTime(lastModified);
  return lm !== undefined && lm.sec === date.sec && lm.nsec === date.nsec;
}

// ---- HTTP dates, parsed with the leniencies of Go's time.Parse ----
// Go's layouts accept more than the RFC: day and month names in any case, runs of spaces where the
// layout has one, a one-digit hour, a fraction after the seconds. The weekday name is checked to be a
// weekday but not against the date; the day must exist in its month.

const SHORT_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const LONG_DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** A cursor over the text being parsed; every reader returns -1 (or false) on a mismatch. */
class Cursor {
  i = 0;
  constructor(readonly s: string) {}

  at(): number {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  digitAt(k: number): number {
    const c = k < this.s.length ? this.s.charCodeAt(k) : -1;
    return c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
  }

  /** A layout space: the text must have at least one here (unless it has ended); all are skipped. */
  spaces(): boolean {
    if (this.i < this.s.length && this.at() !== 0x20) return false;
    while (this.at() === 0x20) this.i++;
    return true;
  }

  literal(text: string): boolean {
    if (!this.s.startsWith(text, this.i)) return false;
    this.i += text.length;
    return true;
  }

  /** One of `names` (lower case), matched without regard to ASCII case; its index or -1. */
  name(names: readonly string[]): number {
    for (let k = 0; k < names.length; k++) {
      const n = names[k]!;
      let j = 0;
      while (j < n.length && (this.s.charCodeAt(this.i + j) | 0x20) === n.charCodeAt(j)) j++;
      if (j === n.length) {
        this.i += j;
        return k;
      }
    }
    return -1;
  }

  /** One or two digits, or exactly two when `fixed`. */
  num(fixed: boolean): number {
    const a = this.digitAt(this.i);
    if (a < 0) return -1;
    const b = this.digitAt(this.i + 1);
    if (b < 0) {
      if (fixed) return -1;
      this.i += 1;
      return a;
    }
    this.i += 2;
    return a * 10 + b;
  }

  year4(): number {
    let y = 0;
    for (let k = 0; k < 4; k++) {
      const d = this.digitAt(this.i + k);
      if (d < 0) return -1;
      y = y * 10 + d;
    }
    this.i += 4;
    return y;
  }

  /** Two characters read as a signed number ("+3" and "-3" pass, as Go's atoi lets them), 69-99 → 19xx. */
  year2(): number {
    const c = this.at();
    const d1 = this.digitAt(this.i + 1);
    if (d1 < 0) return -1;
    let y: number;
    if (c === 0x2b || c === 0x2d) y = c === 0x2d ? -d1 : d1;
    else {
      const d0 = this.digitAt(this.i);
      if (d0 < 0) return -1;
      y = d0 * 10 + d1;
    }
    this.i += 2;
    return y >= 69 ? y + 1900 : y + 2000;
  }

  /** An optional ".123" or ",123" after the seconds: nanoseconds from its first nine digits. */
  fraction(): number {
    const c = this.at();
    if ((c !== 0x2e && c !== 0x2c) || this.digitAt(this.i + 1) < 0) return 0;
    let ns = 0;
    let k = this.i + 1;
    for (; this.digitAt(k) >= 0; k++) if (k - this.i <= 9) ns = ns * 10 + this.digitAt(k);
    for (let n = Math.min(k - this.i - 1, 9); n < 9; n++) ns *= 10;
    this.i = k;
    return ns;
  }

  /** A zone abbreviation Go accepts (its instant stays UTC with the server's TZ=UTC); false if none. */
  zone(): boolean {
    const s = this.s;
    const i = this.i;
    if (s.length - i < 3) return false;
    if (s.startsWith("UTC", i)) {
      this.i += 3;
      return true;
    }
    if (s.startsWith("ChST", i) || s.startsWith("MeST", i)) {
      this.i += 4;
      return true;
    }
    if (s.startsWith("GMT", i)) {
      this.i += 3 + this.signedHours(i + 3);
      return true;
    }
    const c = this.at();
    if (c === 0x2b || c === 0x2d) {
      const n = this.signedHours(i);
      this.i += n;
      return n > 0;
    }
    let upper = 0;
    while (upper < 6) {
      const u = i + upper < s.length ? s.charCodeAt(i + upper) : -1;
      if (u < 0x41 || u > 0x5a) break;
      upper++;
    }
    const ok =
      upper === 3 ||
      (upper === 4 && (s.charCodeAt(i + 3) === 0x54 || s.startsWith("WITA", i))) ||
      (upper === 5 && s.charCodeAt(i + 4) === 0x54);
    if (ok) this.i += upper;
    return ok;
  }

  /** The length of a "+h" / "-hh" offset (hours up to 23) at k, or 0. */
  private signedHours(k: number): number {
    const c = k < this.s.length ? this.s.charCodeAt(k) : -1;
    if (c !== 0x2b && c !== 0x2d) return 0;
    let n = 0;
    let j = k + 1;
    for (; this.digitAt(j) >= 0; j++) n = Math.min(n * 10 + this.digitAt(j), 1e6);
    return j === k + 1 || n > 23 ? 0 : j - k;
  }
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1-12), for any year. */
function daysFromEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

enum Layout {
  /** "Mon, 02 Jan 2006 15:04:05 GMT" (http.TimeFormat) */
  Imf,
  /** "Monday, 02-Jan-06 15:04:05 MST" (RFC 850) */
  Rfc850,
  /** "Mon Jan _2 15:04:05 2006" (asctime) */
  Asctime,
}

function parseLayout(text: string, layout: Layout): HttpTime | undefined {
  const c = new Cursor(text);
  let day: number;
  let month: number;
  let year: number;
  if (layout === Layout.Imf) {
    if (c.name(SHORT_DAYS) < 0 || !c.literal(",") || !c.spaces()) return undefined;
    day = c.num(true);
    if (day < 0 || !c.spaces()) return undefined;
    month = c.name(MONTHS) + 1;
    if (month === 0 || !c.spaces()) return undefined;
    year = c.year4();
  } else if (layout === Layout.Rfc850) {
    if (c.name(LONG_DAYS) < 0 || !c.literal(",") || !c.spaces()) return undefined;
    day = c.num(true);
    if (day < 0 || !c.literal("-")) return undefined;
    month = c.name(MONTHS) + 1;
    if (month === 0 || !c.literal("-")) return undefined;
    year = c.year2();
  } else {
    if (c.name(SHORT_DAYS) < 0 || !c.spaces()) return undefined;
    month = c.name(MONTHS) + 1;
    if (month === 0 || !c.spaces()) return undefined;
    if (c.at() === 0x20) c.i++;
    day = c.num(false);
    year = 0;
  }
  if (day < 0 || year < 0 || !c.spaces()) return undefined;
  const hour = c.num(false);
  if (hour < 0 || hour >= 24 || !c.literal(":")) return undefined;
  const min = c.num(true);
  if (min < 0 || min >= 60 || !c.literal(":")) return undefined;
  const sec = c.num(true);
  if (sec < 0 || sec >= 60) return undefined;
  const nsec = c.fraction();
  if (!c.spaces()) return undefined;
  if (layout === Layout.Imf) {
    if (!c.literal("GMT")) return undefined;
  } else if (layout === Layout.Rfc850) {
    if (!c.zone()) return undefined;
  } else {
    year = c.year4();
    if (year < 0) return undefined;
  }
  if (c.i !== text.length || day < 1 || day > daysIn(month, year)) return undefined;
  return { sec: daysFromEpoch(year, month, day) * 86400 + hour * 3600 + min * 60 + sec, nsec };
}

/** Go's time.Parse(http.TimeFormat, v): the only form weed accepts in If-Modified-Since. */
export function parseHttpDate(value: string): HttpTime | undefined {
  return parseLayout(value, Layout.Imf);
}

/** Go's http.ParseTime: IMF-fixdate, then RFC 850, then asctime (used for If-Range dates). */
export function parseHttpTime(value: string): HttpTime | undefined {
  return (
    parseLayout(value, Layout.Imf) ?? parseLayout(value, Layout.Rfc850) ?? parseLayout(value, Layout.Asctime)
  );
}
