// A flag set that parses Go's flag syntax: `-name=value`, `-name value`, `--name value`, a bool alone
// (`-pprof`, but never `-pprof false`), `--` ending the flags, parsing stopping at the first non-flag.
// Written by hand because no npm parser follows Go's rules (single-dash long names, no bundling,
// bools that never take the next argument, Go's number and duration syntax).

import { formatGoDuration, ParseError, parseGoBool, parseGoDuration, parseGoInt } from "../util/go-values.js";

export type FlagKind = "int" | "int64" | "string" | "bool" | "duration";
type ValueOf<K extends FlagKind> = K extends "bool" ? boolean : K extends "string" ? string : number;

export interface FlagSpec<K extends FlagKind = FlagKind> {
  name: string;
  kind: K;
  default: ValueOf<K>;
  usage: string;
}

export class FlagError extends Error {
  override name = "FlagError";
}
export class HelpRequested extends Error {
  override name = "HelpRequested";
}

export interface ParseResult {
  values: Map<string, boolean | string | number>;
  /** Flags given on the command line, in the order first seen. */
  set: Set<string>;
  /** Arguments left after the flags. */
  rest: string[];
}

export class FlagSet {
  private readonly specs = new Map<string, FlagSpec>();

  define<K extends FlagKind>(name: string, kind: K, defaultValue: ValueOf<K>, usage: string): void {
    this.specs.set(name, { name, kind, default: defaultValue, usage } as FlagSpec);
  }

  has(name: string): boolean {
    return this.specs.has(name);
  }

  parse(args: readonly string[]): ParseResult {
    const values = new Map<string, boolean | string | number>();
    for (const spec of this.specs.values()) values.set(spec.name, spec.default);
    const set = new Set<string>();
    let i = 0;
    while (i < args.length) {
      const arg = args[i]!;
      if (arg.length < 2 || arg[0] !== "-") break;
      const dashes = arg[1] === "-" ? 2 : 1;
      if (arg === "--") {
        i++;
        break;
      }
      i++;
      const body = arg.slice(dashes);
      if (body.length === 0 || body[0] === "-" || body[0] === "=") {
        throw new FlagError(`bad flag syntax: ${arg}`);
      }
      if (body.startsWith("test.")) {
        // weed's flag package stops at Go test flags and leaves them unparsed.
        i--;
        break;
      }
      const eq = body.indexOf("=");
      const name = eq < 0 ? body : body.slice(0, eq);
      let value = eq < 0 ? undefined : body.slice(eq + 1);
      const spec = this.specs.get(name);
      if (!spec) {
        if (name === "h" || name === "help") throw new HelpRequested();
        throw new FlagError(`flag provided but not defined: -${name}`);
      }
      if (spec.kind === "bool") {
        if (value === undefined) value = "true";
        values.set(name, convert(spec, value, `invalid boolean value "${value}" for -${name}`));
      } else {
        if (value === undefined) {
          if (i >= args.length) throw new FlagError(`flag needs an argument: -${name}`);
          value = args[i++]!;
        }
        values.set(name, convert(spec, value, `invalid value "${value}" for flag -${name}`));
      }
      set.add(name);
    }
    return { values, set, rest: args.slice(i) };
  }

  /**
   * weed's flag package also reads WEED_<NAME> environment variables (upper case, '.' and '-' as
   * '_') for flags not given on the command line.
   */
  applyEnvironment(result: ParseResult, env: NodeJS.ProcessEnv, prefix = "WEED"): void {
    for (const spec of this.specs.values()) {
      if (result.set.has(spec.name)) continue;
      const key = `${prefix}_${spec.name.toUpperCase()}`.replace(/[-.]/g, "_");
      let value = env[key];
      if (value === undefined) continue;
      if (spec.kind === "bool" && value === "") value = "true";
      result.values.set(
        spec.name,
        convert(spec, value, `invalid value "${value}" for environment variable ${spec.name}`),
      );
      result.set.add(spec.name);
    }
  }

  /**
   * -options=FILE: one "name=value" (or "name value", "name:value") a line, # // -- comments;
   * flags already set win, unknown names are ignored, as weed's flag package does.
   */
  applyOptionsText(result: ParseResult, text: string): void {
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith("//") || line.startsWith("--")) continue;
      const sep = line.search(/[= :]/);
      let name = sep < 0 ? line : line.slice(0, sep).trim();
      let value = sep < 0 ? "" : line.slice(sep + 1).trim();
      name = name.replace(/^-/, "");
      if (result.set.has(name)) continue;
      const spec = this.specs.get(name);
      if (!spec) continue;
      if (spec.kind === "bool" && value === "") value = "true";
      result.values.set(
        name,
        convert(spec, value, `invalid value "${value}" for configuration variable ${name}`),
      );
      result.set.add(name);
    }
  }

  /** Go's PrintDefaults layout: sorted, `  -name kind` then the indented usage and non-zero default. */
  defaults(): string {
    const lines: string[] = [];
    for (const spec of [...this.specs.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const kind = spec.kind === "bool" ? "" : ` ${spec.kind === "int64" ? "int" : spec.kind}`;
      lines.push(`  -${spec.name}${kind}`);
      lines.push(`    \t${spec.usage.replaceAll("\n", "\n    \t")}${defaultNote(spec)}`);
    }
    return `${lines.join("\n")}\n`;
  }
}

function convert(spec: FlagSpec, raw: string, context: string): boolean | string | number {
  try {
    switch (spec.kind) {
      case "bool":
        return parseGoBool(raw);
      case "string":
        return raw;
      case "duration":
        return parseGoDuration(raw);
      case "int":
      case "int64": {
        const n = parseGoInt(raw);
        if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new ParseError("value out of range");
        }
        return Number(n);
      }
    }
  } catch (err) {
    if (err instanceof ParseError) throw new FlagError(`${context}: ${err.message}`);
    throw err;
  }
}

function defaultNote(spec: FlagSpec): string {
  const d = spec.default;
  if (d === false || d === "" || d === 0) return "";
  if (spec.kind === "string") return ` (default ${JSON.stringify(d)})`;
  if (spec.kind === "duration") return ` (default ${formatGoDuration(d as number)})`;
  return ` (default ${d})`;
}
