// Content-Type, Content-Disposition and the S3-style response-* overrides of a needle read, as weed
// sets them (weed/server/volume_server_handlers_read.go GetOrHeadHandler and writeResponseContent;
// common.go AdjustPassthroughHeaders and adjustHeaderContentDisposition; the table of overrides is
// s3api/s3_constants/header.go PassThroughHeaders).
//
// Order of a read's headers in weed:
//   1. the type: the needle's stored mime unless it starts with "application/octet-stream", else Go's
//      mime.TypeByExtension of the file name's extension (the name from the URL's /vid/fid/name form,
//      else the needle's own name — never the ".ext" of /vid,fid.ext); when that too is "", no
//      Content-Type is set and Go sniffs the first 512 body bytes (sniffContentType) unless the
//      response has a Content-Encoding or no body (HEAD, empty)
//   2. every response-cache-control, -content-disposition, -content-encoding, -content-language,
//      -content-type, -expires query parameter (name in any case, first value, even an empty one)
//      sets its header, over the type and over the needle's pair headers
//   3. if Content-Disposition is still empty and there is a file name: "inline" or, when `dl` parses
//      as a true Go bool, "attachment", with the name as Go's mime.FormatMediaType writes it
// All values here are latin-1 "byte strings", the form Node writes header bytes from.

/** Go's built-in extension table (mime/type.go). weed's image is Alpine without /etc/mime.types. */
const MIME_BY_EXT: Readonly<Record<string, string>> = {
  ".ai": "application/postscript",
  ".apk": "application/vnd.android.package-archive",
  ".apng": "image/apng",
  ".avif": "image/avif",
  ".bin": "application/octet-stream",
  ".bmp": "image/bmp",
  ".com": "application/octet-stream",
  ".css": "text/css; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".doc": "application/msword",
  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  ".ehtml": "text/html; charset=utf-8",
  ".eml": "message/rfc822",
  ".eps": "application/postscript",
  ".exe": "application/octet-stream",
  ".flac": "audio/flac",
  ".gif": "image/gif",
  ".gz": "application/gzip",
  ".htm": "text/html; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".ico": "image/vnd.microsoft.icon",
  ".ics": "text/calendar; charset=utf-8",
  ".jfif": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".jpg": "image/jpeg",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".m4a": "audio/mp4",
  ".mjs": "text/javascript; charset=utf-8",
  ".mp3": "audio/mpeg",
  ".mp4": "video/mp4",
  ".oga": "audio/ogg",
  ".ogg": "audio/ogg",
  ".ogv": "video/ogg",
  ".opus": "audio/ogg",
  ".pdf": "application/pdf",
  ".pjp": "image/jpeg",
  ".pjpeg": "image/jpeg",
  ".png": "image/png",
  ".ppt": "application/vnd.ms-powerpoint",
  ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  ".ps": "application/postscript",
  ".rdf": "application/rdf+xml",
  ".rtf": "application/rtf",
  ".shtml": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
  ".text": "text/plain; charset=utf-8",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".txt": "text/plain; charset=utf-8",
  ".vtt": "text/vtt; charset=utf-8",
  ".wasm": "application/wasm",
  ".wav": "audio/wav",
  ".webm": "audio/webm",
  ".webp": "image/webp",
  ".xbl": "text/xml; charset=utf-8",
  ".xbm": "image/x-xbitmap",
  ".xht": "application/xhtml+xml",
  ".xhtml": "application/xhtml+xml",
  ".xls": "application/vnd.ms-excel",
  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ".xml": "text/xml; charset=utf-8",
  ".xsl": "text/xml; charset=utf-8",
  ".zip": "application/zip",
};

/** The extension of a path's last element, dot included (Go's filepath.Ext); "" when none. */
export function extOf(name: string): string {
  for (let i = name.length - 1; i >= 0; i--) {
    const c = name.charCodeAt(i);
    if (c === 0x2f) break;
    if (c === 0x2e) return name.slice(i);
  }
  return "";
}

/** Go's mime.TypeByExtension over its built-in table, ignoring case; "" when unknown. */
export function mimeByExtension(ext: string): string {
  const hit = MIME_BY_EXT[ext];
  if (hit !== undefined) return hit;
  // Go lower-cases rune by rune: U+0130 becomes a plain "i" there, unlike in JavaScript.
  const lower = (ext.includes("\u0130") ? ext.replaceAll("\u0130", "i") : ext).toLowerCase();
  return lower === ext ? "" : (MIME_BY_EXT[lower] ?? "");
}

/**
 * The type weed gives a read before any override: `storedMime` (the needle's, "" when none) unless it
 * starts with application/octet-stream, else by the file name's extension. "" means Go would set no
 * Content-Type and sniff the body instead. This is also the type of each multipart/byteranges part.
 */
export function responseMimeType(storedMime: string, filename: string | Uint8Array): string {
  if (storedMime !== "" && !storedMime.startsWith("application/octet-stream")) return storedMime;
  const name = typeof filename === "string" ? filename : Buffer.from(filename).toString("utf8");
  const ext = extOf(name);
  return ext === "" ? "" : mimeByExtension(ext);
}

// ---- sniffing (Go's http.DetectContentType, the WHATWG MIME sniffing rules) ----

interface Signature {
  type: string;
  pattern: Uint8Array;
  /** Bytes are ANDed with this before comparing; all-ones when absent. */
  mask?: Uint8Array;
  /** Compare from the first byte that is not white space. */
  skipWs?: boolean;
}

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");
const sig = (type: string, pattern: string, mask?: string, skipWs?: boolean): Signature =>
  mask === undefined
    ? { type, pattern: bytes(pattern), skipWs }
    : { type, pattern: bytes(pattern), mask: bytes(mask), skipWs };

const HTML = "text/html; charset=utf-8";
/** Tags that mark HTML when they start the text (after white space), any case, then " " or ">". */
const HTML_TAGS = [
  "<!DOCTYPE HTML",
  "<HTML",
  "<HEAD",
  "<SCRIPT",
  "<IFRAME",
  "<H1",
  "<DIV",
  "<FONT",
  "<TABLE",
  "<A",
  "<STYLE",
  "<TITLE",
  "<B",
  "<BODY",
  "<BR",
  "<P",
  "<!--",
].map(bytes);

const NUL34 = "\x00".repeat(34);
/** Checked in this order after the HTML tags; the first match wins. */
const SIGNATURES: readonly Signature[] = [
  sig("text/xml; charset=utf-8", "<?xml", "\xff\xff\xff\xff\xff", true),
  sig("application/pdf", "%PDF-"),
  sig("application/postscript", "%!PS-Adobe-"),
  sig("text/plain; charset=utf-16be", "\xfe\xff\x00\x00", "\xff\xff\x00\x00"),
  sig("text/plain; charset=utf-16le", "\xff\xfe\x00\x00", "\xff\xff\x00\x00"),
  sig("text/plain; charset=utf-8", "\xef\xbb\xbf\x00", "\xff\xff\xff\x00"),
  sig("image/x-icon", "\x00\x00\x01\x00"),
  sig("image/x-icon", "\x00\x00\x02\x00"),
  sig("image/bmp", "BM"),
  sig("image/gif", "GIF87a"),
  sig("image/gif", "GIF89a"),
  sig("image/webp", "RIFF\x00\x00\x00\x00WEBPVP", "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff"),
  sig("image/png", "\x89PNG\r\n\x1a\n"),
  sig("image/jpeg", "\xff\xd8\xff"),
  sig("audio/aiff", "FORM\x00\x00\x00\x00AIFF", "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff"),
  sig("audio/mpeg", "ID3"),
  sig("application/ogg", "OggS\x00"),
  sig("audio/midi", "MThd\x00\x00\x00\x06"),
  sig("video/avi", "RIFF\x00\x00\x00\x00AVI ", "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff"),
  sig("audio/wave", "RIFF\x00\x00\x00\x00WAVE", "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff"),
  // (video/mp4 is checked here, see isMp4)
  sig("video/webm", "\x1a\x45\xdf\xa3"),
  sig("application/vnd.ms-fontobject", `${NUL34}LP`, `${NUL34}\xff\xff`),
  sig("font/ttf", "\x00\x01\x00\x00"),
  sig("font/otf", "OTTO"),
  sig("font/collection", "ttcf"),
  sig("font/woff", "wOFF"),
  sig("font/woff2", "wOF2"),
  sig("application/x-gzip", "\x1f\x8b\x08"),
  sig("application/zip", "PK\x03\x04"),
  sig("application/x-rar-compressed", "Rar!\x1a\x07\x00"),
  sig("application/x-rar-compressed", "Rar!\x1a\x07\x01\x00"),
  sig("application/wasm", "\x00asm"),
];
const MP4_BEFORE = SIGNATURES.findIndex((s) => s.type === "video/webm");

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d;
}

function matches(data: Uint8Array, s: Signature, first: number): boolean {
  const from = s.skipWs ? first : 0;
  const p = s.pattern;
  if (data.length - from < p.length) return false;
  for (let i = 0; i < p.length; i++) {
    const b = s.mask ? data[from + i]! & s.mask[i]! : data[from + i]!;
    if (b !== p[i]) return false;
  }
  return true;
}

function isHtml(data: Uint8Array, first: number, tag: Uint8Array): boolean {
  if (data.length - first < tag.length + 1) return false;
  for (let i = 0; i < tag.length; i++) {
    const t = tag[i]!;
    let d = data[first + i]!;
    if (t >= 0x41 && t <= 0x5a) d &= 0xdf;
    if (d !== t) return false;
  }
  const end = data[first + tag.length];
  return end === 0x20 || end === 0x3e;
}

/** An ISO BMFF "ftyp" box whose size fits the data and that lists an "mp4" brand. */
function isMp4(data: Uint8Array): boolean {
  if (data.length < 12) return false;
  const box = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
  if (data.length < box || box % 4 !== 0) return false;
  if (data[4] !== 0x66 || data[5] !== 0x74 || data[6] !== 0x79 || data[7] !== 0x70) return false;
  for (let at = 8; at < box; at += 4) {
    if (at === 12) continue; // the major brand's version
    if (data[at] === 0x6d && data[at + 1] === 0x70 && data[at + 2] === 0x34) return true;
  }
  return false;
}

/**
 * The Content-Type Go's server picks for a body sent without one: the WHATWG sniffing rules over its
 * first 512 bytes, "text/plain; charset=utf-8" for text, else "application/octet-stream". Pass the
 * first bytes of what is actually sent (for a single range, the range).
 */
export function sniffContentType(body: Uint8Array): string {
  const data = body.length > 512 ? body.subarray(0, 512) : body;
  let first = 0;
  while (first < data.length && isWs(data[first]!)) first++;
  for (const tag of HTML_TAGS) if (isHtml(data, first, tag)) return HTML;
  for (let i = 0; i < SIGNATURES.length; i++) {
    if (i === MP4_BEFORE && isMp4(data)) return "video/mp4";
    const s = SIGNATURES[i]!;
    if (matches(data, s, first)) return s.type;
  }
  for (let i = first; i < data.length; i++) {
    const b = data[i]!;
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) {
      return "application/octet-stream";
    }
  }
  return "text/plain; charset=utf-8";
}

// ---- Content-Disposition ----

/** Go's strconv.ParseBool, true side: weed's `dl` is an attachment only for these. */
export function parseGoBool(s: string | undefined): boolean {
  return s === "1" || s === "t" || s === "T" || s === "true" || s === "TRUE" || s === "True";
}

// RFC 2045 token characters: printable ASCII except space and the tspecials ()<>@,;:\"/[]?=
const TOKEN = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) TOKEN[c] = '()<>@,;:\\"/[]?='.includes(String.fromCharCode(c)) ? 0 : 1;
function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

const HEX = "0123456789ABCDEF";

/**
 * `inline; filename=...` or `attachment; filename=...` exactly as Go's mime.FormatMediaType writes
 * it: a token as is, other printable ASCII (and tab) as a quoted string with `"` and `\` escaped,
 * anything else as RFC 2231 `filename*=utf-8''` with percent-escapes. A Uint8Array name is used byte
 * for byte (a stored needle name need not be valid UTF-8); a string is encoded as UTF-8.
 */
export function contentDisposition(filename: string | Uint8Array, attachment: boolean): string {
  const kind = attachment ? "attachment" : "inline";
  const name = typeof filename === "string" ? filename : Buffer.from(filename).toString("latin1");
  let token = name.length > 0;
  let plain = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c < 0x20 || c > 0x7e) && c !== 0x09) {
      plain = false;
      break;
    }
    if (token && !isTokenChar(c)) token = false;
  }
  if (plain) {
    if (token) return `${kind}; filename=${name}`;
    return `${kind}; filename="${name.replace(/["\\]/g, "\\$&")}"`;
  }
  const raw = typeof filename === "string" ? Buffer.from(filename, "utf8") : filename;
  let out = `${kind}; filename*=utf-8''`;
  for (const b of raw) {
    if (b <= 0x20 || b >= 0x7f || b === 0x2a || b === 0x27 || b === 0x25 || !isTokenChar(b)) {
      out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
    } else out += String.fromCharCode(b);
  }
  return out;
}

// ---- the query: dl and response-* overrides ----

/** Query parameter (lower-cased) → the response header it sets. */
const OVERRIDES: ReadonlyMap<string, string> = new Map([
  ["response-cache-control", "Cache-Control"],
  ["response-content-disposition", "Content-Disposition"],
  ["response-content-encoding", "Content-Encoding"],
  ["response-content-language", "Content-Language"],
  ["response-content-type", "Content-Type"],
  ["response-expires", "Expires"],
]);

/** The parts of a read's query that shape its headers. */
export interface ReadQuery {
  /** The first `dl` value ("" when given empty), undefined when absent. */
  dl: string | undefined;
  /** [header, value] to set, in order; a later entry for the same header wins. */
  overrides: Array<[string, string]>;
}

const NO_QUERY: ReadQuery = Object.freeze({ dl: undefined, overrides: Object.freeze([]) as never });

/**
 * Go's url.QueryUnescape: "+" is a space, "%XY" a byte; a bad escape fails (undefined). Returns a
 * latin-1 byte string; characters past 0x7f (which Node never lets into a URL) become their UTF-8
 * bytes.
 */
function queryUnescape(s: string, from: number, to: number): string | undefined {
  let plain = true;
  for (let i = from; i < to && plain; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 || c === 0x2b || c > 0x7f) plain = false;
  }
  if (plain) return s.slice(from, to);
  let out = "";
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (i + 2 >= to || hi < 0 || lo < 0) return undefined;
      out += String.fromCharCode(hi * 16 + lo);
      i += 2;
    } else if (c === 0x2b) out += " ";
    else if (c > 0x7f) out += Buffer.from(s[i]!, "utf8").toString("latin1");
    else out += s[i];
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  return c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
}

/** Go refuses a query of more than this many "&"-separated parameters: it yields no values at all. */
const MAX_PARAMS = 10000;

/**
 * Reads `dl` and the response-* overrides from a raw query (the text after "?", undecoded) the way Go's
 * url.ParseQuery does: pairs split on "&", a pair holding ";" or a bad %-escape is dropped, names are
 * case-sensitive for `dl` but any case for the overrides. Override values are made safe for Node's
 * setHeader the way Go's writer cleans them: CR and LF become spaces, the ends are trimmed of spaces
 * and tabs (and the other control bytes Go would send raw, which Node refuses, become spaces).
 */
export function parseReadQuery(rawQuery: string): ReadQuery {
  if (rawQuery === "") return NO_QUERY;
  if (rawQuery.length >= MAX_PARAMS) {
    let params = 1;
    for (let i = rawQuery.indexOf("&"); i >= 0; i = rawQuery.indexOf("&", i + 1)) params++;
    if (params > MAX_PARAMS) return NO_QUERY;
  }
  let dl: string | undefined;
  let overrides: Array<[string, string]> | undefined;
  let seen: string[] | undefined;
  let pos = 0;
  while (pos < rawQuery.length) {
    let end = rawQuery.indexOf("&", pos);
    if (end < 0) end = rawQuery.length;
    const from = pos;
    pos = end + 1;
    if (from === end) continue;
    // One pass over the pair for "=" and ";" (unbounded indexOf would make long queries quadratic).
    let eq = end;
    let semi = false;
    for (let i = from; i < end; i++) {
      const c = rawQuery.charCodeAt(i);
      if (c === 0x3b) semi = true;
      else if (c === 0x3d && eq === end) eq = i;
    }
    if (semi) continue;
    const key = queryUnescape(rawQuery, from, eq);
    if (key === undefined) continue;
    const isDl = key === "dl";
    // Every override name starts "response-"; skip the lower-casing for anything else.
    const header = isDl || key.length < 16 ? undefined : OVERRIDES.get(key.toLowerCase());
    if (!isDl && header === undefined) continue;
    const value = queryUnescape(rawQuery, Math.min(eq + 1, end), end);
    if (value === undefined) continue;
    if (isDl) {
      dl ??= value;
      continue;
    }
    // Only the first value of each distinct name counts (Go's values[0]).
    seen ??= [];
    if (seen.includes(key)) continue;
    seen.push(key);
    overrides ??= [];
    overrides.push([header!, headerValue(value)]);
  }
  return dl === undefined && overrides === undefined ? NO_QUERY : { dl, overrides: overrides ?? [] };
}

/** Values Node's setHeader takes as they are and that have no white space at either end. */
const SAFE_VALUE = /^(?![ \t])[\t\x20-\x7e\x80-\xff]*(?<![ \t])$/;

/** A header value as Go's writer would put it on the wire, in a form Node's setHeader accepts. */
export function headerValue(v: string): string {
  if (SAFE_VALUE.test(v)) return v;
  // Go turns CR and LF into spaces, then trims spaces and tabs: the same as trimming all four first.
  const edge = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  let from = 0;
  let to = v.length;
  while (from < to && edge(v.charCodeAt(from))) from++;
  while (to > from && edge(v.charCodeAt(to - 1))) to--;
  let out = "";
  let wide = false;
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i);
    // Go would send the other control bytes raw; Node refuses them, so they become spaces too.
    out += (c < 0x20 && c !== 0x09) || c === 0x7f ? " " : v[i];
    if (c > 0xff) wide = true;
  }
  return wide ? Buffer.from(out, "utf8").toString("latin1") : out;
}

/**
 * The headers a needle read sets after its pair headers, in order: Content-Type (when `mimeType` is
 * not ""), the query's overrides, then Content-Disposition when the response's one (`presetDisposition`,
 * from the pairs, as overridden) is empty and there is a file name.
 */
export function contentHeaders(
  mimeType: string,
  filename: string | Uint8Array,
  query: ReadQuery,
  presetDisposition: string | undefined,
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (mimeType !== "") out.push(["Content-Type", headerValue(mimeType)]);
  let disposition = presetDisposition ?? "";
  for (const o of query.overrides) {
    out.push(o);
    if (o[0] === "Content-Disposition") disposition = o[1];
  }
  if (disposition === "" && filename.length > 0) {
    const dl = query.dl;
    out.push(["Content-Disposition", contentDisposition(filename, dl !== undefined && parseGoBool(dl))]);
  }
  return out;
}
