// Value parsers with the exact acceptance rules of Go's strconv and time packages, so that a command
// line that `weed volume` accepts is accepted here and one it rejects is rejected here.

export class ParseError extends Error {
  override name = "ParseError";
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Underscores are allowed only between digits (or after a base prefix), as Go's underscoreOK. */
function underscoresOk(s: string): boolean {
  let saw = "^"; // ^ start, 0 digit or prefix, _ underscore, ! other
  let i = 0;
  if (s.startsWith("+") || s.startsWith("-")) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    const isDigit = (c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c));
    if (isDigit) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

const quote = (s: string) => JSON.stringify(s);
const syntaxError = (fn: string, s: string) =>
  new ParseError(`strconv.${fn}: parsing ${quote(s)}: invalid syntax`);

/** strconv.ParseInt(s, 0, 64): sign, 0x/0o/0b/0 prefixes, underscores between digits. */
export function parseGoInt(s: string): bigint {
  try {
    return parseIntBase0(s);
  } catch (err) {
    if (err instanceof ParseError && err.message === "value out of range") {
      throw new ParseError(`strconv.ParseInt: parsing ${quote(s)}: value out of range`);
    }
    throw syntaxError("ParseInt", s);
  }
}

function parseIntBase0(s: string): bigint {
  if (s.length === 0) throw new ParseError("parse error");
  let body = s;
  let negative = false;
  if (body[0] === "+" || body[0] === "-") {
    negative = body[0] === "-";
    body = body.slice(1);
  }
  let base = 10;
  let digits = body;
  if (body.length > 1 && body[0] === "0") {
    const p = body[1]!.toLowerCase();
    if (p === "x") [base, digits] = [16, body.slice(2)];
    else if (p === "o") [base, digits] = [8, body.slice(2)];
    else if (p === "b") [base, digits] = [2, body.slice(2)];
    else [base, digits] = [8, body.slice(1)];
  }
  if (body.includes("_")) {
    if (!underscoresOk(s)) throw new ParseError("parse error");
    digits = digits.replaceAll("_", "");
  }
  const alphabet = "0123456789abcdef".slice(0, base);
  if (digits.length === 0 || ![...digits.toLowerCase()].every((c) => alphabet.includes(c))) {
    throw new ParseError("parse error");
  }
  const prefix = base === 16 ? "0x" : base === 8 ? "0o" : base === 2 ? "0b" : "";
  const magnitude = BigInt(prefix + digits);
  const value = negative ? -magnitude : magnitude;
  if (value < INT64_MIN || value > INT64_MAX) throw new ParseError("value out of range");
  return value;
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  throw syntaxError("ParseBool", s);
}

const DURATION_UNITS_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3,
  "\u03bcs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** time.ParseDuration, returning nanoseconds: "300ms", "-1.5h", "2h45m"; a bare "0" is allowed. */
export function parseGoDuration(s: string): number {
  const invalid = () => new ParseError(`time: invalid duration ${quote(s)}`);
  let rest = s;
  let negative = false;
  if (rest[0] === "+" || rest[0] === "-") {
    negative = rest[0] === "-";
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw invalid();
  let total = 0;
  const term = /^(\d*)(?:\.(\d*))?([^\d.]*)/;
  while (rest.length > 0) {
    const m = term.exec(rest)!;
    if (m[1] === "" && (m[2] === undefined || m[2] === "")) throw invalid();
    if (m[3] === "") throw new ParseError(`time: missing unit in duration ${quote(s)}`);
    const unit = DURATION_UNITS_NS[m[3]!];
    if (unit === undefined)
      throw new ParseError(`time: unknown unit ${quote(m[3]!)} in duration ${quote(s)}`);
    total += Number(`${m[1] || "0"}.${m[2] || "0"}`) * unit;
    rest = rest.slice(m[0].length);
  }
  if (total > 2 ** 63) throw invalid();
  return negative ? -total : total;
}

/** time.Duration.String: "1m0s", "500µs", "2s", "1h30m0s". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  let d = Math.abs(ns);
  if (d < 1e9) {
    if (d < 1e3) return `${sign}${d}ns`;
    if (d < 1e6) return `${sign}${trimFraction(d / 1e3)}\u00b5s`;
    return `${sign}${trimFraction(d / 1e6)}ms`;
  }
  let out = "";
  const hours = Math.floor(d / 3600e9);
  d -= hours * 3600e9;
  const minutes = Math.floor(d / 60e9);
  d -= minutes * 60e9;
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  return `${sign}${out}${trimFraction(d / 1e9)}s`;
}

function trimFraction(n: number): string {
  return Number(n.toFixed(9)).toString();
}
