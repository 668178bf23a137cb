// Builds the pinned SeaweedFS `weed` from tools/seaweedfs (our Go module that requires the pinned
// version) into .cache/bin, and reuses it while the module files are unchanged.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const goModuleDir = join(root, "tools", "seaweedfs");
export const binDir = join(root, ".cache", "bin");

/** The tags a build with 5-byte index offsets needs; empty for the default 4-byte build. */
export function offsetTags(offset5) {
  return offset5 ? ["-tags", "5BytesOffset"] : [];
}

/** Path of a `weed` for the given offset width, built when missing or stale. */
export function ensureWeed({ offset5 = false, quiet = false } = {}) {
  const name = offset5 ? "weed-5bytes" : "weed";
  const binary = join(binDir, name);
  const stampFile = `${binary}.stamp`;
  const stamp = createHash("sha256")
    .update(readFileSync(join(goModuleDir, "go.mod")))
    .update(readFileSync(join(goModuleDir, "go.sum")))
    .update(name)
    .digest("hex");
  if (existsSync(binary) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) return binary;
  mkdirSync(binDir, { recursive: true });
  if (!quiet) console.error(`building pinned weed (${name}); the first build takes several minutes...`);
  const started = Date.now();
  const result = spawnSync(
    "go",
    ["build", ...offsetTags(offset5), "-o", binary, "github.com/seaweedfs/seaweedfs/weed"],
    { cwd: goModuleDir, stdio: "inherit" },
  );
  if (result.status !== 0) throw new Error(`go build of weed failed (exit ${result.status})`);
  writeFileSync(stampFile, stamp);
  if (!quiet) console.error(`built ${binary} in ${Math.round((Date.now() - started) / 1000)}s`);
  return binary;
}
