// The Range header of a GET, answered as weed answers it (weed/server/common.go ProcessRangeRequest and
// volume_server_handlers_helper.go parseRange, weed's variant of Go's net/http range code). The result is
// a plan — status, byte spans and headers — and the handler streams the spans itself.
//
// weed's rules, some of which differ from other servers:
//   - no Range (or an If-Range that no longer matches): 200 with the whole body
//   - the value must start with "bytes=" exactly; each comma-separated spec is trimmed, empty specs
//     are skipped; "a-b", "a-" and "-n" forms; numbers are Go ParseInt (a "+" sign is allowed)
//   - a spec starting at or past the end (and "-0") is dropped as not overlapping; when nothing is
//     left because of that: 416 with "Content-Range: bytes */size"
//   - any malformed spec (no "-", a bad number, start > end, "bytes" misspelled): 416 without
//     Content-Range
//   - an end past the content is clamped to the last byte
//   - ranges are neither sorted nor merged; when their lengths add up to more than the content,
//     weed sends 200 with an empty body (not the content), as it does for "bytes=" with no specs
//   - one range: 206, Content-Range "bytes a-b/size"; several: 206 multipart/byteranges with a
//     60-hex-digit boundary, each part headed by Content-Range then Content-Type (the stored or
//     extension type — "" when none, as Go writes it); Content-Length is the exact multipart size,
//     left out when the response has a Content-Encoding and the body exceeds Go's 2048-byte buffer
// HEAD requests never reach here: weed answers them 200 with Content-Length of the whole content.

import { randomBytes } from "node:crypto";
import { ifRangeMatches } from "./conditional.js";

/** A span of the content to send: `length` bytes from `start`. */
export interface ByteRange {
  readonly start: number;
  readonly length: number;
}

/** The request's range-related headers and the validators the response already carries. */
export interface RangeRequest {
  /** The Range header (first value when repeated). */
  range?: string | undefined;
  /** The If-Range header (first value when repeated). */
  ifRange?: string | undefined;
  /** The response's ETag header as set (quoted). */
  etag?: string | undefined;
  /** The response's Last-Modified header as set. */
  lastModified?: string | undefined;
}

/** What to send for a GET. Headers replace any of the same name already set. */
export interface RangePlan {
  /** 200: whole content (or nothing, when `ranges` is empty); 206: partial; 416: not satisfiable. */
  status: 200 | 206 | 416;
  /** The content spans to send, in order; empty when no content bytes go out. */
  ranges: ByteRange[];
  headers: Record<string, string>;
  /** multipart/byteranges: the text written before each span (index matches `ranges`), latin-1. */
  partHeads?: string[];
  /** multipart/byteranges: the closing delimiter written after the last span. */
  tail?: string;
  /** 416: the text/plain body, as Go's http.Error writes it. */
  body?: string;
}

/** Go's response writer buffers this much before it must choose chunked encoding. */
const GO_UNCHUNKED_LIMIT = 2048;

const INVALID = "invalid range\n";
const NO_OVERLAP = "invalid range: failed to overlap\n";

/**
 * Plans the response to a GET of `size` content bytes. `partType` is the Content-Type the parts of a
 * multipart answer carry (weed's derived type, not a response-content-type override); `encoded` is
 * whether the response already has a non-empty Content-Encoding. `boundary` is for tests.
 */
export function planRange(
  req: RangeRequest,
  size: number,
  partType: string,
  encoded = false,
  boundary?: string,
): RangePlan {
  const header = req.range;
  if (!header || !ifRangeMatches(req.ifRange, req.etag, req.lastModified)) {
    return { status: 200, ranges: [{ start: 0, length: size }], headers: { "Content-Length": `${size}` } };
  }
  const ranges = parseRanges(header, size);
  if (ranges === "invalid") return unsatisfiable(INVALID, undefined);
  if (ranges === "no-overlap") return unsatisfiable(NO_OVERLAP, `bytes */${size}`);
  let sum = 0;
  for (const r of ranges) sum += r.length;
  if (sum > size || ranges.length === 0) {
    // weed returns without writing: Go then sends 200 with an empty body.
    return { status: 200, ranges: [], headers: { "Content-Length": "0" } };
  }
  if (ranges.length === 1) {
    const r = ranges[0]!;
    return {
      status: 206,
      ranges,
      headers: { "Content-Length": `${r.length}`, "Content-Range": contentRange(r, size) },
    };
  }
  const b = boundary ?? randomBytes(30).toString("hex");
  const partHeads: string[] = new Array(ranges.length);
  let total = 0;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    const head = `${i === 0 ? "" : "\r\n"}--${b}\r\nContent-Range: ${contentRange(r, size)}\r\nContent-Type: ${partType}\r\n\r\n`;
    partHeads[i] = head;
    total += head.length + r.length;
  }
  const tail = `\r\n--${b}--\r\n`;
  total += tail.length;
  const headers: Record<string, string> = { "Content-Type": `multipart/byteranges; boundary=${b}` };
  if (!encoded || total <= GO_UNCHUNKED_LIMIT) headers["Content-Length"] = `${total}`;
  return { status: 206, ranges, headers, partHeads, tail };
}

function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.start + r.length - 1}/${size}`;
}

function unsatisfiable(body: string, range: string | undefined): RangePlan {
  const headers: Record<string, string> = {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    "Content-Length": `${body.length}`,
  };
  if (range) headers["Content-Range"] = range;
  return { status: 416, ranges: [], headers, body };
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

const INT64_MAX = "9223372036854775807";

/**
 * Go's strconv.ParseInt(s, 10, 64) on s[from, to): an optional sign and at least one digit, within
 * int64. NaN when Go would fail. Values past 2^53 lose precision, which cannot matter here: content
 * sizes are far smaller, so such values are only ever clamped or found out of range.
 */
function goInt(s: string, from: number, to: number): number {
  const sign = s.charCodeAt(from);
  const neg = sign === 0x2d;
  if (neg || sign === 0x2b) from++;
  if (from >= to) return Number.NaN;
  let first = from;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    if (n === 0 && d === 0) first = i + 1;
    n = n * 10 + d;
  }
  // Out of int64 is a parse error in Go (-2^63 itself is fine there, but every negative number is
  // rejected by the callers anyway).
  const digits = to - first;
  if (digits > 19 || (digits === 19 && s.slice(first, to) > INT64_MAX)) return Number.NaN;
  return neg ? -n : n;
}

/** The spans of a Range value for `size` bytes, or why there are none. */
function parseRanges(header: string, size: number): ByteRange[] | "invalid" | "no-overlap" {
  if (!header.startsWith("bytes=")) return "invalid";
  const ranges: ByteRange[] = [];
  let noOverlap = false;
  let pos = 6;
  while (pos <= header.length) {
    let end = header.indexOf(",", pos);
    if (end < 0) end = header.length;
    let a = pos;
    let z = end;
    pos = end + 1;
    while (a < z && isSpace(header.charCodeAt(a))) a++;
    while (z > a && isSpace(header.charCodeAt(z - 1))) z--;
    if (a === z) continue;
    const dash = header.indexOf("-", a);
    if (dash < 0 || dash >= z) return "invalid";
    // The two sides of the dash, trimmed again.
    let sz = dash;
    while (sz > a && isSpace(header.charCodeAt(sz - 1))) sz--;
    let ea = dash + 1;
    while (ea < z && isSpace(header.charCodeAt(ea))) ea++;
    if (a === sz) {
      // "-n": the last n bytes. A second "-" or a missing n is malformed.
      if (ea === z || header.charCodeAt(ea) === 0x2d) return "invalid";
      let n = goInt(header, ea, z);
      if (!(n >= 0)) return "invalid";
      if (n > size) n = size;
      if (n === 0) {
        noOverlap = true;
        continue;
      }
      ranges.push({ start: size - n, length: n });
      continue;
    }
    const start = goInt(header, a, sz);
    if (!(start >= 0)) return "invalid";
    if (start >= size) {
      noOverlap = true;
      continue;
    }
    if (ea === z) {
      ranges.push({ start, length: size - start });
      continue;
    }
    let last = goInt(header, ea, z);
    if (Number.isNaN(last) || start > last) return "invalid";
    if (last >= size) last = size - 1;
    ranges.push({ start, length: last - start + 1 });
  }
  if (noOverlap && ranges.length === 0) return "no-overlap";
  return ranges;
}
