// Start-up clean-up of EC files an interrupted VolumeEcShardsGenerate left beside its volume, by
// weed's rules (disk_location_ec.go): while the .dat is there it is the complete source, so EC
// files that provably hold less than a full encode of it are removed instead of being mounted —
// shards without an .ecx (ours puts the .ecx in place last), an .ecx without shards, or shards
// shorter than the .dat encodes to. EC files without a .dat (a spread EC volume) are always kept.
// Empty shard files are residue of a failed operation: never mounted, and removed here, when
// nothing can be writing them.

import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { SUPER_BLOCK_SIZE } from "../types.js";
import { loadVolumeInfo } from "../volume/volume-info.js";
import { SIDECAR_EXT } from "./bitrot.js";
import { ecBaseName } from "./ec-volume.js";
import { DATA_SHARDS, MAX_SHARD_COUNT, shardExt, uniformBlockSize } from "./layout.js";

/** The .ecx of an encode under way, renamed to .ecx once the shards and .vif are written. */
export const PENDING_ECX_EXT = ".ecx.pending";

export interface EcDirs {
  directory: string;
  idxDirectory: string;
}

/** Removes what interrupted encodes left in one disk location; says what it removed through `warn`. */
export function sweepInterruptedEncodes(
  location: EcDirs,
  parse: (base: string) => { collection: string; id: number } | undefined,
  warn: (message: string) => void,
): void {
  const bases = new Set<string>();
  for (const dir of new Set([location.directory, location.idxDirectory])) {
    for (const name of readdirSync(dir)) {
      const m = /^(.+)\.(ec[0-9]{2}|ecx|ecx\.pending)$/.exec(name);
      if (!m) continue;
      const path = `${dir}/${name}`;
      if (m[2] === "ecx.pending") {
        rmSync(path, { force: true });
        warn(`removed ${path}: the index of an encode that did not finish`);
        continue;
      }
      if (m[2] !== "ecx" && sizeOf(path) === 0) {
        rmSync(path, { force: true });
        warn(`removed empty ec shard ${path} (residue of a failed operation)`);
        continue;
      }
      bases.add(m[1]!);
    }
  }
  for (const base of bases) {
    const parsed = parse(base);
    if (!parsed) continue;
    const why = interruptedEncode(location, parsed.collection, parsed.id);
    if (why === undefined) continue;
    removeEcFiles(location, parsed.collection, parsed.id);
    warn(`volume ${base}: ${why}; its .dat is whole, so the ec files were removed`);
  }
}

/** Why the volume's EC files are an interrupted encode of its .dat, or undefined to keep them. */
function interruptedEncode(location: EcDirs, collection: string, id: number): string | undefined {
  const dataBase = ecBaseName(location.directory, collection, id);
  const datSize = sizeOf(`${dataBase}.dat`);
  // No .dat (or only a super block): the shards may be the only copy.
  if (datSize === undefined || datSize <= SUPER_BLOCK_SIZE) return undefined;
  const hasIndex =
    existsSync(`${ecBaseName(location.idxDirectory, collection, id)}.ecx`) || existsSync(`${dataBase}.ecx`);
  const sizes: number[] = [];
  for (let i = 0; i < MAX_SHARD_COUNT; i++) {
    const size = sizeOf(dataBase + shardExt(i));
    if (size) sizes.push(size);
  }
  if (!hasIndex) return sizes.length > 0 ? `${sizes.length} ec shards without an .ecx` : undefined;
  if (sizes.length === 0) return "an .ecx without shards";
  const dataShards = loadVolumeInfo(`${dataBase}.vif`)?.ecShardConfig?.dataShards || DATA_SHARDS;
  const expected = uniformBlockSize(datSize, dataShards);
  const short = sizes.filter((s) => s < expected);
  if (short.length === 0) return undefined;
  return `${short.length} ec shards shorter than the ${expected} bytes its .dat encodes to`;
}

function removeEcFiles(location: EcDirs, collection: string, id: number): void {
  const dataBase = ecBaseName(location.directory, collection, id);
  removeEcArtifacts(dataBase, ecBaseName(location.idxDirectory, collection, id));
  // An .ecx from before -dir.idx was set sits beside the shards.
  rmSync(`${dataBase}.ecx`, { force: true });
  rmSync(`${dataBase}.ecj`, { force: true });
}

/** Removes a volume's EC files: the index first, so a removal cut short leaves nothing to mount. */
export function removeEcArtifacts(dataBase: string, indexBase: string): void {
  rmSync(`${indexBase}.ecx`, { force: true });
  rmSync(`${indexBase}.ecj`, { force: true });
  for (let i = 0; i < MAX_SHARD_COUNT; i++) rmSync(dataBase + shardExt(i), { force: true });
  rmSync(dataBase + SIDECAR_EXT, { force: true });
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
