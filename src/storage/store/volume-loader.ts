// Start-up loading of every volume found in the data directories, in parallel.
//
// Most of a volume's load time is building its memory needle map from the .idx, which is CPU work.
// The main thread opens each volume (settles an interrupted vacuum, checks the .dat's tail against
// the .idx, repairs a torn tail: short file I/O) and hands the map build to a pool of worker
// threads (map-builders.ts); when a map comes back, as shared memory, the main thread completes the
// Volume. About twice as many volumes as workers are in flight, so the main thread opens the next
// ones while the workers build.
//
// A -index=leveldb* map belongs to the main thread (its database is driven from here), so with one
// of those, or when there is too little to gain (a few small indexes), volumes load one after
// another on this thread, as loadVolume does.
//
// Each volume id loads once: candidates in -dir order, the first that loads wins, later ones are
// skipped with a warning; a volume that fails is logged and skipped (its next candidate, if any, is
// tried). Progress goes to the log every 10% for large stores and every few seconds.

import { availableParallelism } from "node:os";
import type { NeedleMapper } from "../index/needle-mapper.js";
import type { OffsetWidth } from "../types.js";
import type { Volume } from "../volume/volume.js";
import {
  closeOpenedVolume,
  completeVolume,
  loadVolume,
  memoryNeedleMap,
  type NeedleMapFactory,
  openVolume,
  readNeedleMap,
} from "../volume/volume-load.js";
import type { DiskLocation } from "./disk-location.js";
import { MapBuilders, MapBuildersBroken } from "./map-builders.js";
import type { MapHeadStart } from "./map-head-start.js";

/** A volume's files found in a data directory. */
export interface VolumeFiles {
  location: DiskLocation;
  /** "<collection>_<id>" or "<id>". */
  base: string;
  collection: string;
  id: number;
  /** Size of its .idx, 0 when it has none (yet). */
  idxBytes: number;
}

export interface StartupLoadOptions {
  defaultWidth: OffsetWidth;
  needleMap: NeedleMapFactory | undefined;
  /**
   * Worker threads building memory needle maps; 0 or 1 loads every volume on this thread. When
   * unset: os.availableParallelism() up to MAX_LOAD_THREADS, used once the indexes hold enough
   * to pay for starting threads.
   */
  threads?: number;
  /** Needle maps already being built since the process started (memory maps only). */
  headStart?: MapHeadStart;
  /** A progress line at least this often while loading (default 5 s). */
  progressEveryMs?: number;
  /** Already loaded: not loaded again. */
  taken(id: number): boolean;
  log: { info(message: string): void; warn(message: string): void };
}

export interface StartupLoadResult {
  /** Volume ids loaded. */
  loaded: number;
  /** Volume files that failed to load. */
  failed: number;
  /** Volume files skipped because their id loaded from elsewhere. */
  duplicates: number;
  /** Worker threads used, 0 when everything loaded on this thread. */
  threads: number;
}

export const MAX_LOAD_THREADS = 8;
/**
 * Below this much index in all (about 2 million entries, some 80 ms of map building on one thread),
 * starting worker threads (some 40 ms each) costs about what it saves: the default loads on the
 * main thread then.
 */
export const PARALLEL_LOAD_MIN_IDX_BYTES = 32 << 20;
const PROGRESS_EVERY_MS = 5000;
/** Stores of at least this many volumes report every 10%. */
const PROGRESS_STEPS_FROM = 100;

export function defaultLoadThreads(): number {
  return Math.min(availableParallelism(), MAX_LOAD_THREADS);
}

export async function loadVolumesInParallel(
  found: VolumeFiles[],
  options: StartupLoadOptions,
): Promise<StartupLoadResult> {
  const { log } = options;
  const result: StartupLoadResult = { loaded: 0, failed: 0, duplicates: 0, threads: 0 };

  // One group per id, its candidates in -dir order.
  const groups = new Map<number, VolumeFiles[]>();
  for (const files of found) {
    if (options.taken(files.id)) {
      log.warn(
        `volume ${files.id} in ${files.location.directory} is already loaded from another directory; skipped`,
      );
      result.duplicates++;
      continue;
    }
    const group = groups.get(files.id);
    if (group) group.push(files);
    else groups.set(files.id, [files]);
  }
  const total = groups.size;
  if (total === 0) return result;

  const memory = options.needleMap === undefined || options.needleMap === memoryNeedleMap;
  const idxBytes = found.reduce((n, f) => n + f.idxBytes, 0);
  const wanted = options.threads ?? (idxBytes >= PARALLEL_LOAD_MIN_IDX_BYTES ? defaultLoadThreads() : 0);
  const threads = memory && total > 1 && wanted > 1 ? Math.min(wanted, total) : 0;
  result.threads = threads;
  const pool = threads > 0 ? new MapBuilders(threads) : undefined;
  const directories = new Set(found.map((f) => f.location.directory)).size;
  log.info(
    `loading ${total} volumes from ${directories} directories ${
      pool ? `with ${threads} needle map threads` : "on the main thread"
    }`,
  );

  const progress = new Progress(total, options.progressEveryMs ?? PROGRESS_EVERY_MS, log);
  const warn = (m: string) => log.warn(m);
  let poolFailureLogged = false;

  const load = async (files: VolumeFiles): Promise<Volume> => {
    const loc = {
      dir: files.location.directory,
      idxDir: files.location.resolveIdxDir(files.base),
      collection: files.collection,
      id: files.id,
    };
    const headStart = memory ? options.headStart : undefined;
    if (!pool && !headStart) {
      return loadVolume(loc, { defaultWidth: options.defaultWidth, needleMap: options.needleMap, warn });
    }
    const opened = openVolume(loc, { defaultWidth: options.defaultWidth, warn });
    let built: { map: NeedleMapper; idxLength: number } | undefined;
    try {
      try {
        built = await headStart?.take({ ...opened, version: opened.superBlock.version });
        if (!built && !pool) built = readNeedleMap(opened);
        built ??= await pool!.build(opened.idxPath, opened.width, opened.superBlock.version);
      } catch (err) {
        if (!(err instanceof MapBuildersBroken)) throw err;
        if (!poolFailureLogged) {
          poolFailureLogged = true;
          log.warn(`${err.message}; building the remaining needle maps on the main thread`);
        }
        built = readNeedleMap(opened);
      }
    } catch (err) {
      closeOpenedVolume(opened);
      throw err;
    }
    return completeVolume(opened, built.map, built.idxLength, { warn });
  };

  const loadGroup = async (candidates: VolumeFiles[]): Promise<void> => {
    for (let i = 0; i < candidates.length; i++) {
      const files = candidates[i]!;
      let volume: Volume;
      try {
        volume = await load(files);
      } catch (err) {
        log.warn(`load volume ${files.base} in ${files.location.directory}: ${(err as Error).message}`);
        result.failed++;
        continue;
      }
      files.location.volumes.set(files.id, volume);
      result.loaded++;
      for (const other of candidates.slice(i + 1)) {
        log.warn(
          `volume ${other.id} in ${other.location.directory} is already loaded from ${files.location.directory}; skipped`,
        );
        result.duplicates++;
      }
      break;
    }
    progress.step();
  };

  const queue = [...groups.values()];
  let next = 0;
  const runner = async () => {
    while (next < queue.length) await loadGroup(queue[next++]!);
  };
  try {
    // Twice the workers in flight: the main thread opens volumes while the workers build maps.
    await Promise.all(Array.from({ length: pool ? Math.min(total, 2 * threads) : 1 }, runner));
  } finally {
    await pool?.close();
  }
  // Completion order is arbitrary: keep each directory's volumes in id order.
  for (const location of new Set(found.map((f) => f.location))) {
    const sorted = [...location.volumes].sort((a, b) => a[0] - b[0]);
    location.volumes.clear();
    for (const [id, volume] of sorted) location.volumes.set(id, volume);
  }
  return result;
}

class Progress {
  private done = 0;
  private readonly started = Date.now();
  private last = this.started;

  constructor(
    private readonly total: number,
    private readonly everyMs: number,
    private readonly log: { info(message: string): void },
  ) {}

  step(): void {
    const done = ++this.done;
    if (done === this.total) return; // the caller logs the end
    const now = Date.now();
    const tenth =
      this.total >= PROGRESS_STEPS_FROM &&
      Math.floor((done * 10) / this.total) > Math.floor(((done - 1) * 10) / this.total);
    if (!tenth && now - this.last < this.everyMs) return;
    this.last = now;
    this.log.info(
      `loaded ${done}/${this.total} volumes (${Math.floor((done * 100) / this.total)}%) in ${(
        (now - this.started) / 1000
      ).toFixed(1)} s...`,
    );
  }
}
