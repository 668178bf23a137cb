// Text rules of Go's standard library that decide what an upload means to weed: media-type parsing
// (mime.ParseMediaType), query parsing (url.ParseQuery), header-key canonical form, path.Base,
// strconv.ParseUint and strconv.Quote (the %q in Go's error messages).
//
// Strings here are "byte strings": one char per byte (latin-1), the form Node gives header values in
// and the form Go's own strings have. Callers turn them into text (UTF-8) only at the edge.

/** An error whose message is the one Go's code would have produced. */
export class GoError extends Error {}

/** mime.ParseMediaType's error for a bad parameter: Go still returns the media type with it. */
export class MediaTypeError extends GoError {
  constructor(
    message: string,
    readonly type: string,
  ) {
    super(message);
  }
}

// RFC 2045 token characters: printable ASCII except space and ()<>@,;:\"/[]?=
const TSPECIALS = '()<>@,;:\\"/[]?=';

export function isTokenByte(c: number): boolean {
  return c > 0x20 && c < 0x7f && !TSPECIALS.includes(String.fromCharCode(c));
}

function isTSpecial(c: number): boolean {
  return c < 0x80 && TSPECIALS.includes(String.fromCharCode(c));
}

/** Length of the white space (as Go's unicode.IsSpace on UTF-8) that starts s at i. */
function spaceAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return 1;
  // U+0085 and U+00A0 arrive as their two UTF-8 bytes.
  if (c === 0xc2 && (s.charCodeAt(i + 1) === 0x85 || s.charCodeAt(i + 1) === 0xa0)) return 2;
  return 0;
}

function skipSpace(s: string, i = 0): number {
  for (let n = spaceAt(s, i); n > 0; n = spaceAt(s, i)) i += n;
  return i;
}

function trimSpace(s: string): string {
  let start = skipSpace(s);
  let end = s.length;
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) end--;
    else if (end - 2 >= start && s.charCodeAt(end - 2) === 0xc2 && (c === 0x85 || c === 0xa0)) end -= 2;
    else break;
  }
  if (start > end) start = end;
  return s.slice(start, end);
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function tokenEnd(s: string, i: number): number {
  while (i < s.length && isTokenByte(s.charCodeAt(i))) i++;
  return i;
}

/** A quoted string or a token at s[i]; undefined when there is neither. */
function readValue(s: string, i: number): { value: string; end: number } | undefined {
  if (s[i] !== '"') {
    const end = tokenEnd(s, i);
    return end === i ? undefined : { value: s.slice(i, end), end };
  }
  let out = "";
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j]!;
    if (c === '"') return { value: out, end: j + 1 };
    // A backslash escapes only a tspecial; before anything else it is a literal (MSIE file paths).
    if (c === "\\" && j + 1 < s.length && isTSpecial(s.charCodeAt(j + 1))) {
      out += s[++j];
      continue;
    }
    if (c === "\r" || c === "\n") return undefined;
    out += c;
  }
  return undefined;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** %XX escapes of an RFC 2231 value; undefined when one is malformed. */
function percentDecode(s: string): string | undefined {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "%") {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return undefined;
    out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
    i += 2;
  }
  return out;
}

/** charset'language'value with a charset Go accepts (us-ascii or utf-8). */
function decodeExtended(v: string): string | undefined {
  const q1 = v.indexOf("'");
  if (q1 < 0) return undefined;
  const q2 = v.indexOf("'", q1 + 1);
  if (q2 < 0) return undefined;
  const charset = asciiLower(v.slice(0, q1));
  if (charset !== "us-ascii" && charset !== "utf-8") return undefined;
  return percentDecode(v.slice(q2 + 1));
}

export interface MediaType {
  /** Lower-cased, trimmed type ("multipart/form-data", "attachment", ...). */
  type: string;
  /** Parameter names lower-cased; values as sent, RFC 2231 forms decoded and joined. */
  params: Map<string, string>;
}

/** Go's mime.ParseMediaType; throws GoError with Go's message when Go returns an error. */
export function parseMediaType(v: string): MediaType {
  const semi = v.indexOf(";");
  const base = semi < 0 ? v : v.slice(0, semi);
  const type = trimSpace(asciiLower(base));
  const typeEnd = tokenEnd(type, 0);
  if (typeEnd === 0) throw new GoError("mime: no media type");
  if (typeEnd < type.length) {
    if (type[typeEnd] !== "/") throw new GoError("mime: expected slash after first token");
    const subEnd = tokenEnd(type, typeEnd + 1);
    if (subEnd === typeEnd + 1) throw new GoError("mime: expected token after slash");
    if (subEnd < type.length) throw new GoError("mime: unexpected content after media subtype");
  }

  const params = new Map<string, string>();
  // name -> (raw name -> value) for the names with a '*' (RFC 2231 extended or continued values)
  const starred = new Map<string, Map<string, string>>();
  let rest = v.slice(base.length);
  for (;;) {
    rest = rest.slice(skipSpace(rest));
    if (rest === "") break;
    const param = readParam(rest);
    if (param === undefined) {
      if (trimSpace(rest) === ";") break; // a trailing semicolon is allowed
      throw new MediaTypeError("mime: invalid media parameter", type);
    }
    const star = param.name.indexOf("*");
    let into = params;
    if (star >= 0) {
      const stem = param.name.slice(0, star);
      into = starred.get(stem) ?? new Map<string, string>();
      starred.set(stem, into);
    }
    const seen = into.get(param.name);
    if (seen !== undefined && seen !== param.value) throw new GoError("mime: duplicate parameter name");
    into.set(param.name, param.value);
    rest = rest.slice(param.end);
  }

  for (const [stem, pieces] of starred) {
    const whole = pieces.get(`${stem}*`);
    if (whole !== undefined) {
      const decoded = decodeExtended(whole);
      if (decoded !== undefined) params.set(stem, decoded);
      continue;
    }
    let joined = "";
    let found = false;
    for (let n = 0; ; n++) {
      const plain = pieces.get(`${stem}*${n}`);
      if (plain !== undefined) {
        found = true;
        joined += plain;
        continue;
      }
      const encoded = pieces.get(`${stem}*${n}*`);
      if (encoded === undefined) break;
      found = true;
      joined += (n === 0 ? decodeExtended(encoded) : percentDecode(encoded)) ?? "";
    }
    if (found) params.set(stem, joined);
  }
  return { type, params };
}

/** `; name=value` at the start of s (after white space); undefined when malformed. */
function readParam(s: string): { name: string; value: string; end: number } | undefined {
  let i = skipSpace(s);
  if (s[i] !== ";") return undefined;
  i = skipSpace(s, i + 1);
  const nameEnd = tokenEnd(s, i);
  if (nameEnd === i) return undefined;
  const name = asciiLower(s.slice(i, nameEnd));
  i = skipSpace(s, nameEnd);
  if (s[i] !== "=") return undefined;
  i = skipSpace(s, i + 1);
  const value = readValue(s, i);
  if (value === undefined) return undefined;
  return { name, value: value.value, end: value.end };
}

// ---- query strings ----

/** Form values as Go keeps them: every value of a name, in the order they came. */
export type FormValues = Map<string, string[]>;

const MAX_QUERY_PARAMS = 10000;

/** Go's %XX and '+' decoding of a query component; a GoError for a malformed escape. */
function unescapeQuery(s: string): string {
  if (!s.includes("%") && !s.includes("+")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "+") out += " ";
    else if (c !== "%") out += c;
    else if (i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      throw new GoError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
    }
  }
  return out;
}

/**
 * Go's url.ParseQuery into `form`: pairs split on '&', a ';' in a pair is an error (the pair is
 * skipped, parsing goes on). Returns the error message Go's call would return, or undefined.
 */
export function parseQueryInto(form: FormValues, query: string): string | undefined {
  let count = 1;
  for (let i = query.indexOf("&"); i >= 0; i = query.indexOf("&", i + 1)) count++;
  if (count > MAX_QUERY_PARAMS) return "number of URL query parameters exceeded limit";
  let error: string | undefined;
  for (const pair of query === "" ? [] : query.split("&")) {
    if (pair.includes(";")) {
      error = "invalid semicolon separator in query";
      continue;
    }
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    try {
      const key = unescapeQuery(eq < 0 ? pair : pair.slice(0, eq));
      const value = unescapeQuery(eq < 0 ? "" : pair.slice(eq + 1));
      const values = form.get(key);
      if (values) values.push(value);
      else form.set(key, [value]);
    } catch (err) {
      error ??= (err as Error).message;
    }
  }
  return error;
}

/** Go's r.FormValue: the first value, "" when none. */
export function formValue(form: FormValues, name: string): string {
  return form.get(name)?.[0] ?? "";
}

// ---- small Go functions ----

/** Go's textproto canonical header key for a valid token: "seaweed-foo-bar" -> "Seaweed-Foo-Bar". */
export function canonicalHeaderKey(key: string): string {
  let out = "";
  let upper = true;
  for (const c of key) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === "-";
  }
  return out;
}

/** Go's path.Base: the last element; "." for "", "/" for a path of slashes. */
export function pathBase(p: string): string {
  if (p === "") return ".";
  let end = p.length;
  while (end > 0 && p[end - 1] === "/") end--;
  if (end === 0) return "/";
  return p.slice(p.lastIndexOf("/", end - 1) + 1, end);
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Go's strconv.ParseUint(s, 10, 64) with the error dropped, as weed reads `ts`: 0 for a malformed
 * value, the largest uint64 for one too large.
 */
export function parseUint64Lenient(s: string): bigint {
  if (!/^[0-9]+$/.test(s)) return 0n;
  const v = BigInt(s);
  return v > UINT64_MAX ? UINT64_MAX : v;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's strconv.Quote of a byte string (invalid UTF-8 as \x escapes). */
export function goQuote(s: string | Uint8Array): string {
  const bytes = typeof s === "string" ? Buffer.from(s, "latin1") : Buffer.from(s);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      if (b === 0x22) out += '\\"';
      else if (b === 0x5c) out += "\\\\";
      else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
      else out += SHORT_ESCAPES[b] ?? `\\x${b.toString(16).padStart(2, "0")}`;
      continue;
    }
    const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    let ch: string | undefined;
    if (size > 1 && i + size <= bytes.length) {
      try {
        ch = decoder.decode(bytes.subarray(i, i + size));
      } catch {
        ch = undefined;
      }
    }
    if (ch === undefined) {
      out += `\\x${b.toString(16).padStart(2, "0")}`;
      i++;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    i += size;
  }
  return `${out}"`;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  7: "\\a",
  8: "\\b",
  12: "\\f",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  11: "\\v",
};

/** A byte string as text: its bytes read as UTF-8 (bad sequences become U+FFFD, as Go's JSON does). */
export function byteStringToText(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for bytes outside ASCII
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, "latin1").toString("utf8");
}
