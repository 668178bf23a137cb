// Shared helpers for the storage tests: where the Go-written fixtures and vectors are, scratch
// directories, and hex helpers.

import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** SeaweedFS's own test files (shared/ sits beside the repository, in CI as here). */
export const FIXTURES = [
  process.env["SEAWEEDFS_FIXTURES"],
  join(repoRoot, "..", "shared", "fixtures", "seaweedfs-go"),
  "/work/shared/fixtures/seaweedfs-go",
].find((p): p is string => p !== undefined && existsSync(p)) as string;

/** Vectors written by test/storage/vectors/gen (SeaweedFS's Go code). */
export const VECTORS = join(repoRoot, "test", "storage", "vectors");

export function vectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(VECTORS, name), "utf8")) as T;
}

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A fresh scratch directory, removed when the process ends. */
export function scratchDir(prefix = "storage-"): string {
  const dir = mkdtempSync(join(tmpdir(), `wv-${prefix}`));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Copies fixture files into `dir` under new names: [[from, to], ...]. */
export function copyFixtures(dir: string, pairs: [string, string][], from = FIXTURES): void {
  for (const [src, dst] of pairs) copyFileSync(join(from, src), join(dir, dst));
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const unhex = (s: string) => Buffer.from(s, "hex");

/** Needle id hex (as Go prints it) to [hi, lo]. */
export function keyHalves(idHex: string): [number, number] {
  const v = BigInt(`0x${idHex || "0"}`);
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}
