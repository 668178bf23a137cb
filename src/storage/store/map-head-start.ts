// A head start for the needle maps at process start. Node spends the first fifth of a second or so
// loading the server's modules on the main thread; meanwhile the other cores are idle. So, before
// those modules load, the entry point finds the largest volumes' .idx files and has worker threads
// (map-builders.ts) build their memory needle maps, one a thread. When the store later opens a volume (and runs
// its checks, which may repair or replace the .idx), it takes the map built early only if the .idx
// is still the very file the worker read, unchanged, and was read with the same offset width and
// version; otherwise it builds the map itself as it always did.
//
// Only what a plain directory scan can tell is guessed here: the width from the .vif (else the
// default) and the version from the .dat's first byte. A wrong guess costs a discarded map, never a
// wrong one.

import { closeSync, type Dirent, openSync, readdirSync, readSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { OffsetWidth, Version } from "../types.js";
import { loadVolumeInfo } from "../volume/volume-info.js";
import { sameFile } from "./index-file-stamp.js";
import { type BuiltMap, MapBuilders } from "./map-builders.js";

/** Smaller indexes (under some 10 ms of building) are not worth a worker's start. */
export const HEAD_START_MIN_IDX_BYTES = 1 << 20;
const MAX_HEAD_START_THREADS = 4;

export interface HeadStartDirectory {
  directory: string;
  /** -dir.idx, or the directory itself. */
  idxDirectory: string;
}

/** What a volume's open found: the map built early fits it only if all of these match. */
export interface OpenedIndex {
  idxPath: string;
  idxFd: number;
  width: OffsetWidth;
  version: Version;
}

interface EarlyBuild {
  width: OffsetWidth;
  version: Version;
  built: Promise<BuiltMap | undefined>;
}

export class MapHeadStart {
  private readonly builds = new Map<string, EarlyBuild>();
  /** Maps handed to the store, and maps it could not use. */
  taken = 0;
  discarded = 0;

  private constructor(private readonly pool: MapBuilders) {}

  /**
   * Starts building the maps of the larger volumes in `directories` on worker threads (by default
   * one a core but the main thread's); undefined when there is nothing worth it or only one core.
   */
  static start(
    directories: HeadStartDirectory[],
    defaultWidth: OffsetWidth,
    threads = Math.min(availableParallelism() - 1, MAX_HEAD_START_THREADS),
  ): MapHeadStart | undefined {
    if (threads < 1) return undefined;
    const found = directories.flatMap((d) => candidates(d, defaultWidth));
    if (found.length === 0) return undefined;
    // One map a thread, the largest first: the store's own loader (volume-loader.ts) builds the
    // rest in parallel, and must not wait behind a queue here.
    found.sort((a, b) => b.idxBytes - a.idxBytes);
    const head = new MapHeadStart(new MapBuilders(Math.min(threads, found.length)));
    for (const c of found.slice(0, threads)) {
      const built = head.pool.build(c.idxPath, c.width, c.version).then(
        (b) => b,
        () => undefined, // the store's own load reports what is wrong with the volume
      );
      head.builds.set(c.idxPath, { width: c.width, version: c.version, built });
    }
    return head;
  }

  /**
   * The map built early for this opened volume, or undefined when there is none or it no longer
   * fits: the .idx was replaced or changed since, or was read with another width or version.
   */
  async take(opened: OpenedIndex): Promise<BuiltMap | undefined> {
    const early = this.builds.get(opened.idxPath);
    if (!early) return undefined;
    this.builds.delete(opened.idxPath);
    const built = await early.built;
    const fits =
      built?.stat !== undefined &&
      early.width === opened.width &&
      early.version === opened.version &&
      sameFile(built.stat, opened.idxFd);
    if (!fits) {
      this.discarded++;
      return undefined;
    }
    this.taken++;
    return built;
  }

  /** Resolves once every map started early is built or has failed. */
  async settled(): Promise<void> {
    await Promise.all([...this.builds.values()].map((b) => b.built));
  }

  /** Stops the workers; maps not taken are dropped. */
  async close(): Promise<void> {
    this.builds.clear();
    await this.pool.close();
  }
}

interface Candidate {
  idxPath: string;
  idxBytes: number;
  width: OffsetWidth;
  version: Version;
}

function candidates(dir: HeadStartDirectory, defaultWidth: OffsetWidth): Candidate[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir.directory, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: Candidate[] = [];
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith(".dat")) continue;
    const base = e.name.slice(0, -4);
    const idxPath = [join(dir.idxDirectory, `${base}.idx`), join(dir.directory, `${base}.idx`)].find(
      (p) => sizeOf(p) >= HEAD_START_MIN_IDX_BYTES,
    );
    if (!idxPath) continue;
    const version = versionOf(join(dir.directory, e.name));
    if (version === undefined) continue;
    let width = defaultWidth;
    try {
      const recorded = loadVolumeInfo(join(dir.directory, `${base}.vif`))?.bytesOffset;
      if (recorded === 4 || recorded === 5) width = recorded;
    } catch {
      continue;
    }
    out.push({ idxPath, idxBytes: sizeOf(idxPath), width, version });
  }
  return out;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/** The super block's version byte, when it is one this server reads. */
function versionOf(datPath: string): Version | undefined {
  const byte = Buffer.alloc(1);
  let fd: number;
  try {
    fd = openSync(datPath, "r");
  } catch {
    return undefined;
  }
  try {
    if (readSync(fd, byte, 0, 1, 0) !== 1) return undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  const v = byte[0]!;
  return v === 1 || v === 2 || v === 3 ? v : undefined;
}
