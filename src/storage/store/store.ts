// The store: all data directories of this server and their volumes. It places new volumes, finds
// volumes by id (unique across directories), and tells listeners when volumes come and go so the
// heartbeat can send deltas.

import { closeSync, fsyncSync, openSync, readdirSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseTtl } from "../needle/ttl.js";
import type { OffsetWidth } from "../types.js";
import {
  formatReplicaPlacement,
  parseReplicaPlacement,
  replicaPlacementByte,
} from "../volume/replica-placement.js";
import { type Volume, volumeBaseName } from "../volume/volume.js";
import { emptyVolumeInfo, loadVolumeInfo, saveVolumeInfo } from "../volume/volume-info.js";
import { createVolume, loadVolume, type NeedleMapFactory } from "../volume/volume-load.js";
import { DiskLocation, type DiskLocationOptions } from "./disk-location.js";
import type { MapHeadStart } from "./map-head-start.js";
import { loadVolumesInParallel, type StartupLoadResult } from "./volume-loader.js";

export interface StoreOptions {
  locations: DiskLocationOptions[];
  /** -index: which needle map volumes use (memory when absent). */
  needleMap?: NeedleMapFactory;
  /** Offset width of new volumes, and of old ones whose .vif does not record it. */
  defaultWidth: OffsetWidth;
  log: { info(message: string): void; warn(message: string): void };
  /**
   * Worker threads building memory needle maps at start-up; 0 loads on the main thread. Unset:
   * one per CPU (up to 8) when the indexes are big enough to gain from it.
   */
  loadThreads?: number;
}

export interface VolumeEvent {
  volume: Volume;
  location: DiskLocation;
  diskId: number;
}

export interface StoreListener {
  volumeAdded?(event: VolumeEvent): void;
  volumeDeleted?(event: VolumeEvent): void;
}

export class StoreError extends Error {}

export class Store {
  readonly locations: DiskLocation[];
  /** Learnt from the master when -offsetBytes=0. */
  defaultWidth: OffsetWidth;
  readonly needleMap: NeedleMapFactory | undefined;
  /** Set by the master's heartbeat answers. */
  volumeSizeLimit = 0;
  preallocate = false;
  private readonly listeners: StoreListener[] = [];
  private readonly log: StoreOptions["log"];
  private readonly loadThreads: number | undefined;
  private diskSpaceTimer: NodeJS.Timeout | undefined;

  constructor(options: StoreOptions) {
    this.defaultWidth = options.defaultWidth;
    this.needleMap = options.needleMap;
    this.log = options.log;
    this.loadThreads = options.loadThreads;
    this.locations = options.locations.map((l) => new DiskLocation(l));
  }

  /**
   * Loads the volumes of every directory, needle maps built in parallel (see volume-loader.ts). A
   * volume id loads once, from the first directory that has it; a volume that fails is logged and
   * skipped.
   */
  /** `headStart`: maps already being built for some of these volumes; closed once they are loaded. */
  async loadExistingVolumes(headStart?: MapHeadStart): Promise<void> {
    const started = Date.now();
    const warn = (m: string) => this.log.warn(m);
    const found = this.locations.flatMap((location) => location.findVolumeFiles(warn));
    let result: StartupLoadResult;
    try {
      result = await loadVolumesInParallel(found, {
        defaultWidth: this.defaultWidth,
        needleMap: this.needleMap,
        threads: this.loadThreads,
        headStart,
        taken: (id) => this.findVolume(id) !== undefined,
        log: this.log,
      });
    } finally {
      await headStart?.close();
    }
    if (headStart && headStart.taken + headStart.discarded > 0) {
      this.log.info(
        `needle maps built while the server started: ${headStart.taken} used, ${headStart.discarded} built again`,
      );
    }
    const failed = result.failed > 0 ? `, ${result.failed} failed` : "";
    this.log.info(
      `loaded ${result.loaded} volumes${failed} from ${this.locations.length} directories in ${Date.now() - started} ms`,
    );
  }

  /**
   * Checks every directory's free space against its -minFreeSpace now and every minute, as weed
   * does: a directory short of it turns its volumes read-only (reported in the heartbeat) until
   * space is freed.
   */
  startDiskSpaceChecks(intervalMs = 60_000): void {
    for (const location of this.locations) {
      location.onDiskSpaceChange = (low, description) => {
        const message = `dir ${location.directory} ${description}`;
        if (low) this.log.warn(`${message}: its volumes are read only`);
        else this.log.info(message);
      };
      location.checkDiskSpace();
    }
    clearInterval(this.diskSpaceTimer);
    this.diskSpaceTimer = setInterval(() => {
      for (const location of this.locations) location.checkDiskSpace();
    }, intervalMs);
    this.diskSpaceTimer.unref();
  }

  addListener(listener: StoreListener): void {
    this.listeners.push(listener);
  }

  findVolume(id: number): Volume | undefined {
    for (const location of this.locations) {
      const v = location.volumes.get(id);
      if (v) return v;
    }
    return undefined;
  }

  /** The volume, its directory and the directory's index in -dir order (weed's disk id). */
  locate(id: number): VolumeEvent | undefined {
    for (let diskId = 0; diskId < this.locations.length; diskId++) {
      const location = this.locations[diskId]!;
      const volume = location.volumes.get(id);
      if (volume) return { volume, location, diskId };
    }
    return undefined;
  }

  *volumes(): Generator<VolumeEvent> {
    for (let diskId = 0; diskId < this.locations.length; diskId++) {
      const location = this.locations[diskId]!;
      for (const volume of location.volumes.values()) yield { volume, location, diskId };
    }
  }

  /** Creates a volume in the directory of the requested disk type holding the fewest volumes. */
  addVolume(
    id: number,
    collection: string,
    replication: string,
    ttl: string,
    options: { diskType?: string; preallocate?: number; width?: OffsetWidth } = {},
  ): Volume {
    if (collection === "." || collection === ".." || /[/\\]/.test(collection)) {
      throw new StoreError(`invalid collection ${JSON.stringify(collection)}`);
    }
    if (this.findVolume(id)) throw new StoreError(`Volume Id ${id} already exists!`);
    const replicaPlacement = parseReplicaPlacement(replication);
    const parsedTtl = parseTtl(ttl);
    const diskType = options.diskType ?? "";
    let chosen: number | undefined;
    for (let i = 0; i < this.locations.length; i++) {
      const l = this.locations[i]!;
      if (l.diskType !== diskType || l.isDiskSpaceLow || l.freeSlots() <= 0) continue;
      if (chosen === undefined || l.volumeCount() < this.locations[chosen]!.volumeCount()) chosen = i;
    }
    if (chosen === undefined) throw new StoreError("No more free space left");
    const location = this.locations[chosen]!;
    this.log.info(
      `In dir ${location.directory} (disk ID ${chosen}) adds volume:${id} collection:${collection} replicaPlacement:${replication} ttl:${ttl}`,
    );
    const volume = createVolume(
      { dir: location.directory, idxDir: location.idxDirectory, collection, id },
      {
        replicaPlacement,
        ttl: parsedTtl,
        width: options.width ?? this.defaultWidth,
        preallocate: options.preallocate ?? 0,
        needleMap: this.needleMap,
      },
    );
    location.volumes.set(id, volume);
    this.emit("volumeAdded", { volume, location, diskId: chosen });
    return volume;
  }

  /** Closes and removes a volume's files. */
  deleteVolume(id: number, options: { onlyEmpty?: boolean } = {}): void {
    const found = this.locate(id);
    if (!found) throw new StoreError(`volume ${id} not found on disk`);
    if (options.onlyEmpty && found.volume.fileCount - found.volume.deletedCount > 0) {
      throw new StoreError("volume not empty");
    }
    found.location.volumes.delete(id);
    found.volume.destroy();
    this.emit("volumeDeleted", found);
  }

  /** Loads a volume whose files are on disk but not loaded (VolumeMount). */
  mountVolume(id: number): Volume {
    const existing = this.findVolume(id);
    if (existing) return existing;
    for (let diskId = 0; diskId < this.locations.length; diskId++) {
      const location = this.locations[diskId]!;
      const base = this.findBaseName(location, id);
      if (base === undefined) continue;
      const volume = loadVolume(
        {
          dir: location.directory,
          idxDir: location.resolveIdxDir(base.name),
          collection: base.collection,
          id,
        },
        { defaultWidth: this.defaultWidth, needleMap: this.needleMap, warn: (m) => this.log.warn(m) },
      );
      location.volumes.set(id, volume);
      this.emit("volumeAdded", { volume, location, diskId });
      return volume;
    }
    throw new StoreError(`volume ${id} not found on disk`);
  }

  /** A fresh load of a mounted volume's files (after they were replaced, e.g. by a vacuum). */
  reloadVolume(v: Volume): Volume {
    return loadVolume(
      { dir: v.dir, idxDir: v.idxDir, collection: v.collection, id: v.id },
      { defaultWidth: this.defaultWidth, needleMap: this.needleMap, warn: (m) => this.log.warn(m) },
    );
  }

  /** Closes a volume but keeps its files (VolumeUnmount); unmounting what is not mounted is fine. */
  unmountVolume(id: number): void {
    const found = this.locate(id);
    if (!found) return;
    found.location.volumes.delete(id);
    found.volume.close();
    this.emit("volumeDeleted", found);
  }

  /** Rewrites an unmounted volume's replica placement in its super block and .vif. */
  configureVolume(id: number, replication: string): void {
    const replicaPlacement = parseReplicaPlacement(replication);
    for (const location of this.locations) {
      const base = this.findBaseName(location, id);
      if (base === undefined) continue;
      const datPath = join(location.directory, `${base.name}.dat`);
      const fd = openSync(datPath, "r+");
      try {
        writeSync(fd, Buffer.from([replicaPlacementByte(replicaPlacement)]), 0, 1, 1);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const vifPath = join(location.directory, `${base.name}.vif`);
      const info = loadVolumeInfo(vifPath) ?? emptyVolumeInfo();
      info.replication = formatReplicaPlacement(replicaPlacement);
      saveVolumeInfo(vifPath, info);
      return;
    }
    throw new StoreError(`volume ${id} not found on disk`);
  }

  deleteCollection(collection: string): void {
    for (const { volume } of [...this.volumes()]) {
      if (volume.collection === collection) this.deleteVolume(volume.id);
    }
  }

  close(): void {
    clearInterval(this.diskSpaceTimer);
    for (const { volume } of this.volumes()) {
      try {
        volume.close();
      } catch (err) {
        this.log.warn(`close volume ${volume.id}: ${(err as Error).message}`);
      }
    }
  }

  private findBaseName(location: DiskLocation, id: number): { name: string; collection: string } | undefined {
    for (const entry of readdirSync(location.directory)) {
      const m = /^(?:(.+)_)?(\d+)\.dat$/.exec(entry);
      if (m && Number(m[2]) === id) {
        const collection = m[1] ?? "";
        return { name: volumeBaseName(collection, id), collection };
      }
    }
    return undefined;
  }

  private emit(kind: keyof StoreListener, event: VolumeEvent): void {
    for (const l of this.listeners) l[kind]?.(event);
  }
}
