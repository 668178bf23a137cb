// The volume server's Query over JSON-lines needles, as weed evaluates it: each line is a JSON
// document; a line passes when the filter field exists and compares true (no operator: exists);
// selected fields are written back as `{name:raw,name:raw}`, the raw JSON text of each value.
// Paths are gjson's basic form: dot-separated keys (`\.` escapes a dot, `*` and `?` match),
// array indexes, and `#` for an array's length. Values are located in the text itself, so the
// raw bytes come back exactly as stored.

export type JsonType = "null" | "false" | "number" | "string" | "true" | "json";

export interface JsonValue {
  type: JsonType;
  raw: string;
}

export interface JsonFilter {
  field: string;
  op: string;
  value: string;
}

const WS = new Set([" ", "\t", "\n", "\r"]);

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i]!)) i++;
  return i;
}

/** End (exclusive) of the JSON value starting at i, or -1 when it is malformed. */
function valueEnd(s: string, i: number): number {
  const c = s[i];
  if (c === '"') {
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === "\\") j++;
      else if (s[j] === '"') return j + 1;
    }
    return -1;
  }
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s[j];
      if (d === '"') {
        j = valueEnd(s, j) - 1;
        if (j < 0) return -1;
      } else if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < s.length && !WS.has(s[j]!) && s[j] !== "," && s[j] !== "}" && s[j] !== "]") j++;
  return j > i ? j : -1;
}

function typeOf(raw: string): JsonType {
  const c = raw[0];
  if (c === '"') return "string";
  if (c === "{" || c === "[") return "json";
  if (raw === "true") return "true";
  if (raw === "false") return "false";
  if (raw === "null") return "null";
  return "number";
}

/** Glob match with `*` (any run) and `?` (any one character), as tidwall/match. */
export function globMatch(text: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "s").test(text);
}

function pathParts(path: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === "\\" && i + 1 < path.length) current += path[++i];
    else if (c === ".") {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** The members of an object or the elements of an array, as raw ranges. */
function* members(
  s: string,
  start: number,
  end: number,
): Generator<{ key?: string; from: number; to: number }> {
  const isObject = s[start] === "{";
  let i = skipWs(s, start + 1);
  while (i < end - 1) {
    let key: string | undefined;
    if (isObject) {
      const keyEnd = valueEnd(s, i);
      if (keyEnd < 0 || s[i] !== '"') return;
      key = JSON.parse(s.slice(i, keyEnd)) as string;
      i = skipWs(s, keyEnd);
      if (s[i] !== ":") return;
      i = skipWs(s, i + 1);
    }
    const to = valueEnd(s, i);
    if (to < 0) return;
    yield { key, from: i, to };
    i = skipWs(s, to);
    if (s[i] === ",") i = skipWs(s, i + 1);
    else return;
  }
}

/** The value at a gjson-style path in one JSON document; undefined when it does not exist. */
export function getPath(json: string, path: string): JsonValue | undefined {
  let from = skipWs(json, 0);
  let to = valueEnd(json, from);
  if (to < 0) return undefined;
  for (const part of pathParts(path)) {
    const c = json[from];
    if (c === "{") {
      const wild = part.includes("*") || part.includes("?");
      let found: { from: number; to: number } | undefined;
      for (const m of members(json, from, to)) {
        if (wild ? globMatch(m.key!, part) : m.key === part) {
          found = m;
          break;
        }
      }
      if (!found) return undefined;
      ({ from, to } = found);
    } else if (c === "[") {
      const elements = [...members(json, from, to)];
      if (part === "#") return { type: "number", raw: String(elements.length) };
      if (!/^\d+$/.test(part)) return undefined;
      const e = elements[Number(part)];
      if (!e) return undefined;
      ({ from, to } = e);
    } else return undefined;
  }
  const raw = json.slice(from, to);
  return { type: typeOf(raw), raw };
}

function compare<T>(a: T, b: T, op: string): boolean | undefined {
  switch (op) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
  return undefined;
}

/** Whether a line passes the filter, with weed's rules per value type. */
export function passesFilter(line: string, filter: JsonFilter): boolean {
  const v = getPath(line, filter.field);
  if (!v) return false;
  if (filter.op === "") return true;
  const want = filter.value;
  switch (v.type) {
    case "string": {
      const text = JSON.parse(v.raw) as string;
      if (filter.op === "%") return globMatch(text, want);
      if (filter.op === "!%") return !globMatch(text, want);
      return compare(text, want, filter.op) ?? false;
    }
    case "number": {
      // Go's ParseFloat failure leaves 0.
      const n = Number.parseFloat(want);
      return compare(Number(v.raw), Number.isNaN(n) ? 0 : n, filter.op) ?? false;
    }
    case "true":
      return (
        { "=": want === "true", "!=": want !== "true", ">": want === "false", ">=": true }[filter.op] ?? false
      );
    case "false":
      return (
        { "=": want === "false", "!=": want !== "false", "<": want === "true", "<=": true }[filter.op] ??
        false
      );
    default:
      return false;
  }
}

/** The records of the lines that pass, each `{sel:raw,...}`, concatenated as weed does. */
export function queryJsonLines(data: string, selections: string[], filter: JsonFilter): string {
  let out = "";
  for (const line of data.split("\n")) {
    if (line.trim() === "" || !passesFilter(line, filter)) continue;
    const values = selections.map((s) => getPath(line, s)?.raw ?? "");
    out += `{${values.map((raw, i) => `${selections[i]}:${raw}`).join(",")}}`;
  }
  return out;
}
