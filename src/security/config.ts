// security.toml: found where weed finds it (-config_dir, the working directory, $HOME/.seaweedfs,
// /usr/local/etc/seaweedfs, /etc/seaweedfs), or named by --securityFile. Missing is not an error:
// weed runs without it.

import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";

export type TomlTable = { [key: string]: unknown };

export interface SecurityConfig {
  /** The file read, or "" when none was found. */
  path: string;
  table: TomlTable;
}

export function securitySearchPaths(configDir: string): string[] {
  const dirs = [
    configDir,
    process.cwd(),
    join(homedir(), ".seaweedfs"),
    "/usr/local/etc/seaweedfs",
    "/etc/seaweedfs",
  ];
  return dirs.filter((d) => d !== "").map((d) => join(d, "security.toml"));
}

/** Throws with the file's path when the file exists but is not valid TOML. */
export function loadSecurityConfig(securityFile: string, configDir: string): SecurityConfig {
  const candidates = securityFile ? [securityFile] : securitySearchPaths(configDir);
  for (const path of candidates) {
    if (!existsSync(path)) {
      if (securityFile) throw new Error(`security file ${path} not found`);
      continue;
    }
    try {
      return { path, table: parse(readFileSync(path, "utf8")) as TomlTable };
    } catch (err) {
      throw new Error(`reading ${path}: ${(err as Error).message}`);
    }
  }
  return { path: "", table: {} };
}

/** Dotted lookup as viper does it: get(cfg, "jwt.signing.key"). */
export function configValue(config: SecurityConfig, dotted: string): unknown {
  let node: unknown = config.table;
  for (const part of dotted.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as TomlTable)[part];
  }
  return node;
}

export function configString(config: SecurityConfig, dotted: string, fallback = ""): string {
  const v = configValue(config, dotted);
  return typeof v === "string" ? v : v === undefined ? fallback : String(v);
}

export function configInt(config: SecurityConfig, dotted: string, fallback: number): number {
  const v = configValue(config, dotted);
  return typeof v === "number"
    ? v
    : typeof v === "bigint"
      ? Number(v)
      : typeof v === "string" && v !== ""
        ? Number(v)
        : fallback;
}

export function configBool(config: SecurityConfig, dotted: string, fallback = false): boolean {
  const v = configValue(config, dotted);
  return typeof v === "boolean" ? v : typeof v === "string" ? v === "true" : fallback;
}
