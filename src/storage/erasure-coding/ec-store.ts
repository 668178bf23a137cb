// The EC volumes of a store, per disk location (as weed keeps them): mounting a shard finds the disk
// holding its file and the .ecx that indexes it; listeners (the heartbeat) hear of every shard
// mounted or unmounted. Kept beside the Store rather than inside it: one EcStore per Store.

import { existsSync, readdirSync, statSync } from "node:fs";
import { type DiskLocation, parseVolumeBaseName } from "../store/disk-location.js";
import type { Store } from "../store/store.js";
import { EcVolume, ecBaseName } from "./ec-volume.js";
import { sweepInterruptedEncodes } from "./interrupted-encode.js";
import { MAX_SHARD_COUNT, shardExt } from "./layout.js";

export interface EcShardEvent {
  volume: EcVolume;
  location: DiskLocation;
  diskId: number;
  shard: number;
  /** The shard's size when mounted; 0 when unmounted. */
  size: number;
}

export interface EcStoreListener {
  ecShardMounted(event: EcShardEvent): void;
  ecShardUnmounted(event: EcShardEvent): void;
}

export interface LocatedEcVolume {
  volume: EcVolume;
  location: DiskLocation;
  diskId: number;
}

export class EcStore {
  readonly #volumes = new Map<DiskLocation, Map<number, EcVolume>>();
  readonly #listeners: EcStoreListener[] = [];

  constructor(readonly store: Store) {}

  addListener(listener: EcStoreListener): void {
    this.#listeners.push(listener);
  }

  /** Every mounted EC volume with its disk. */
  *volumes(): Generator<LocatedEcVolume> {
    for (const [diskId, location] of this.store.locations.entries()) {
      for (const volume of this.#volumes.get(location)?.values() ?? []) yield { volume, location, diskId };
    }
  }

  find(id: number): EcVolume | undefined {
    for (const located of this.volumes()) if (located.volume.id === id) return located.volume;
    return undefined;
  }

  findAll(id: number): LocatedEcVolume[] {
    return [...this.volumes()].filter((l) => l.volume.id === id);
  }

  /** The EC volume that has `shard` mounted. */
  findWithShard(id: number, shard: number): EcVolume | undefined {
    for (const { volume } of this.volumes()) if (volume.id === id && volume.shards.has(shard)) return volume;
    return undefined;
  }

  /** The .ecx's base on this disk (index directory first), or undefined. */
  #indexBase(location: DiskLocation, collection: string, id: number): string | undefined {
    for (const dir of [location.idxDirectory, location.directory]) {
      const base = ecBaseName(dir, collection, id);
      if (EcVolume.hasIndex(base)) return base;
    }
    return undefined;
  }

  /** Mounts shard `shard` from the disk that holds its file; throws when none does. */
  mountShard(collection: string, id: number, shard: number): LocatedEcVolume {
    let sawShardWithoutIndex = false;
    for (const [diskId, location] of this.store.locations.entries()) {
      const dataBase = ecBaseName(location.directory, collection, id);
      if (!existsSync(dataBase + shardExt(shard))) continue;
      let volumes = this.#volumes.get(location);
      let volume = volumes?.get(id);
      if (!volume) {
        const indexBase = this.#indexBase(location, collection, id) ?? this.#anyIndexBase(collection, id);
        if (!indexBase) {
          sawShardWithoutIndex = true;
          continue;
        }
        volume = new EcVolume(id, collection, dataBase, indexBase, this.store.defaultWidth);
        if (!volumes) {
          volumes = new Map();
          this.#volumes.set(location, volumes);
        }
        volumes.set(id, volume);
      }
      const file = volume.mountShard(shard);
      const event = { volume, location, diskId, shard, size: file.size };
      for (const l of this.#listeners) l.ecShardMounted(event);
      return { volume, location, diskId };
    }
    if (sawShardWithoutIndex)
      throw new Error(`MountEcShards ${id}.${shard}: no .ecx index found on any local disk`);
    throw new Error(`MountEcShards ${id}.${shard} not found on disk`);
  }

  #anyIndexBase(collection: string, id: number): string | undefined {
    for (const location of this.store.locations) {
      const base = this.#indexBase(location, collection, id);
      if (base) return base;
    }
    return undefined;
  }

  /**
   * Mounts every shard file found in the data directories whose .ecx is here (start-up), after
   * removing what interrupted encodes left (see interrupted-encode.ts).
   */
  loadExisting(warn: (message: string) => void): void {
    for (const location of this.store.locations) {
      sweepInterruptedEncodes(location, parseVolumeBaseName, warn);
      for (const name of readdirSync(location.directory).sort()) {
        const match = /^(.+)\.ec([0-9]{2})$/.exec(name);
        const parsed = match && parseVolumeBaseName(match[1]!);
        if (!match || !parsed) continue;
        try {
          this.mountShard(parsed.collection, parsed.id, Number(match[2]));
        } catch (err) {
          warn(`load ec shard ${name}: ${(err as Error).message}`);
        }
      }
    }
  }

  /** Non-empty shard files of the volume on any disk, by shard id (data directories first). */
  shardFiles(collection: string, id: number): Map<number, string> {
    const found = new Map<number, string>();
    const dirs = new Set<string>();
    for (const l of this.store.locations) dirs.add(l.directory);
    for (const l of this.store.locations) dirs.add(l.idxDirectory);
    for (const dir of dirs) {
      for (let i = 0; i < MAX_SHARD_COUNT; i++) {
        const path = ecBaseName(dir, collection, id) + shardExt(i);
        if (!found.has(i) && existsSync(path) && statSync(path).size > 0) found.set(i, path);
      }
    }
    return found;
  }

  /** Unmounts the shard on every disk holding it; a volume left without shards is closed. */
  unmountShard(id: number, shard: number): boolean {
    let any = false;
    for (const { volume, location, diskId } of this.findAll(id)) {
      if (!volume.unmountShard(shard)) continue;
      any = true;
      const event = { volume, location, diskId, shard, size: 0 };
      for (const l of this.#listeners) l.ecShardUnmounted(event);
      if (volume.shards.size === 0) this.#drop(location, volume);
    }
    return any;
  }

  /** Unmounts every shard of the volume on every disk. */
  unloadVolume(id: number): void {
    for (const { volume } of this.findAll(id)) {
      for (const shard of volume.shardIds()) this.unmountShard(id, shard);
    }
  }

  /** Closes every EC volume (shutdown). */
  close(): void {
    for (const { volume, location } of [...this.volumes()]) this.#drop(location, volume);
  }

  #drop(location: DiskLocation, volume: EcVolume): void {
    this.#volumes.get(location)?.delete(volume.id);
    volume.close();
  }
}

const ecStores = new WeakMap<Store, EcStore>();

/** The EcStore of this store, made on first use. */
export function ecStoreOf(store: Store): EcStore {
  let ec = ecStores.get(store);
  if (!ec) {
    ec = new EcStore(store);
    ecStores.set(store, ec);
  }
  return ec;
}
