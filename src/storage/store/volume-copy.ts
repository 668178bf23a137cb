// The storage side of VolumeCopy: a copy is written into a `copying/` directory the loader never
// scans, checked, and only then swapped in for whatever replica of the volume is here. The
// replaced replica's files are hard-linked aside first, so a swap that fails puts them back:
// a failed copy never costs the node the copy it had.

import { existsSync, linkSync, mkdirSync, renameSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Volume } from "../volume/volume.js";
import { volumeBaseName } from "../volume/volume.js";
import type { DiskLocation } from "./disk-location.js";
import { type Store, StoreError } from "./store.js";

export const COPYING_DIR = "copying";

export interface StagedCopy {
  id: number;
  collection: string;
  location: DiskLocation;
  /** Final paths without extension: data (.dat .vif) and index (.idx). */
  dataBase: string;
  indexBase: string;
  /** Where the copy is written first. */
  stagedDataBase: string;
  stagedIndexBase: string;
}

/** Bytes free in a directory after its -minFreeSpace reserve. */
export function availableSpace(location: DiskLocation): number {
  const s = statfsSync(location.directory);
  const free = s.bavail * s.bsize;
  const total = s.blocks * s.bsize;
  const reserve =
    location.minFreeSpace.kind === "bytes"
      ? location.minFreeSpace.bytes
      : (total * location.minFreeSpace.percent) / 100;
  return Math.max(0, free - reserve);
}

/**
 * Picks the directory of the requested disk type with the most free volume slots and room for
 * `neededBytes` (a replica of the volume here frees its slot), and prepares its staging names.
 */
export function stageCopy(
  store: Store,
  id: number,
  collection: string,
  diskType: string,
  neededBytes: number,
): StagedCopy {
  let chosen: DiskLocation | undefined;
  let bestFree = 0;
  for (const location of store.locations) {
    if (location.diskType !== diskType || location.isDiskSpaceLow) continue;
    const free = location.freeSlots() + (location.volumes.has(id) ? 1 : 0);
    if (free <= bestFree || availableSpace(location) <= neededBytes) continue;
    chosen = location;
    bestFree = free;
  }
  if (!chosen) throw new StoreError(`no space left for disk type ${diskType || "hdd"}`);
  const base = volumeBaseName(collection, id);
  const staged: StagedCopy = {
    id,
    collection,
    location: chosen,
    dataBase: join(chosen.directory, base),
    indexBase: join(chosen.idxDirectory, base),
    stagedDataBase: join(chosen.directory, COPYING_DIR, base),
    stagedIndexBase: join(chosen.idxDirectory, COPYING_DIR, base),
  };
  mkdirSync(dirname(staged.stagedDataBase), { recursive: true });
  mkdirSync(dirname(staged.stagedIndexBase), { recursive: true });
  // Staging names are fixed per volume: a crashed earlier copy may have left files behind.
  discardStaged(staged);
  return staged;
}

export function discardStaged(staged: StagedCopy): void {
  for (const path of [
    `${staged.stagedDataBase}.dat`,
    `${staged.stagedIndexBase}.idx`,
    `${staged.stagedDataBase}.vif`,
  ]) {
    rmSync(path, { force: true });
  }
}

function hasEcIndex(staged: StagedCopy): boolean {
  return existsSync(`${staged.dataBase}.ecx`) || existsSync(`${staged.indexBase}.ecx`);
}

/** Hard-links files aside into copying/replaced_<name>; false when an existing one could not be. */
function linkAside(paths: string[]): { links: string[]; complete: boolean } {
  const links: string[] = [];
  let complete = true;
  for (const path of new Set(paths)) {
    if (!existsSync(path)) continue;
    const link = join(dirname(path), COPYING_DIR, `replaced_${basename(path)}`);
    try {
      mkdirSync(dirname(link), { recursive: true });
      rmSync(link, { force: true });
      linkSync(path, link);
      links.push(link);
    } catch {
      complete = false;
    }
  }
  return { links, complete };
}

function restoreAside(links: string[]): void {
  for (const link of links) {
    const original = join(dirname(dirname(link)), basename(link).slice("replaced_".length));
    try {
      rmSync(original, { force: true });
      renameSync(link, original);
    } catch {}
  }
}

/** Needle-map files a mount would trust over a freshly copied .idx. */
function removeDerivedIndexes(staged: StagedCopy): void {
  for (const base of new Set([staged.indexBase, staged.dataBase])) {
    for (const ext of [".ldb", ".sdx", ".rdb", ".idx"]) rmSync(base + ext, { recursive: true, force: true });
  }
}

/**
 * Swaps a checked staged copy in for the replica here (mounted or not) and mounts it; `validate`
 * may refuse the mounted copy. On any failure the previous replica's files come back (and it is
 * mounted again if it was) and the error is rethrown.
 */
export function installCopy(
  store: Store,
  staged: StagedCopy,
  source: string,
  validate: (v: Volume) => void,
): Volume {
  const note = `${staged.dataBase}.note`;
  const moved: string[] = [];
  let links: string[] = [];
  let replacedWasMounted = false;
  let mounted: Volume | undefined;
  try {
    const replaced = store.findVolume(staged.id);
    if (replaced) {
      const aside = linkAside([
        replaced.fileName(".dat"),
        replaced.fileName(".idx"),
        replaced.fileName(".vif"),
        join(replaced.dir, `${volumeBaseName(replaced.collection, replaced.id)}.idx`),
      ]);
      links = aside.links;
      if (!aside.complete)
        throw new StoreError(`preserve files of existing volume ${staged.id} for rollback`);
      store.deleteVolume(staged.id);
      replacedWasMounted = true;
    } else {
      const aside = linkAside([
        `${staged.dataBase}.dat`,
        `${staged.indexBase}.idx`,
        `${staged.dataBase}.vif`,
        `${staged.dataBase}.idx`,
        note,
      ]);
      links = aside.links;
      if (!aside.complete)
        throw new StoreError(`preserve files of existing volume ${staged.id} for rollback`);
      for (const path of [`${staged.dataBase}.dat`, `${staged.indexBase}.idx`, `${staged.dataBase}.idx`]) {
        rmSync(path, { force: true });
      }
      // An EC volume of the same id keeps its settings in the shared .vif.
      if (!hasEcIndex(staged)) rmSync(`${staged.dataBase}.vif`, { force: true });
    }
    rmSync(note, { force: true });
    removeDerivedIndexes(staged);

    // The .note marks the swap as in progress: a crash mid-rename leaves it, and the next load
    // sweeps the partial set instead of serving it.
    writeFileSync(note, `copying from ${source}`);
    for (const [from, to] of [
      [`${staged.stagedDataBase}.vif`, `${staged.dataBase}.vif`],
      [`${staged.stagedDataBase}.dat`, `${staged.dataBase}.dat`],
      [`${staged.stagedIndexBase}.idx`, `${staged.indexBase}.idx`],
    ] as const) {
      if (!existsSync(from)) continue;
      renameSync(from, to);
      moved.push(to);
    }
    rmSync(note);

    mounted = store.mountVolume(staged.id);
    validate(mounted);
    for (const link of links) rmSync(link, { force: true });
    return mounted;
  } catch (err) {
    if (mounted) {
      try {
        store.deleteVolume(staged.id);
      } catch {}
    }
    for (const path of moved) {
      if (path.endsWith(".vif") && hasEcIndex(staged)) continue;
      rmSync(path, { force: true });
    }
    rmSync(note, { force: true });
    discardStaged(staged);
    if (links.length > 0) {
      restoreAside(links);
      if (replacedWasMounted) {
        try {
          store.mountVolume(staged.id);
        } catch {}
      }
    }
    throw err;
  }
}
