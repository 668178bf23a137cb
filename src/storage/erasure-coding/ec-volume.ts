// One EC volume on one disk location: its mounted shard files, the sorted index (.ecx, sealed at
// encode time and searched in memory), the deletion journal (.ecj: needle ids, 8 bytes each,
// appended and synced before a delete counts), and the geometry from the .vif.
// Reading a needle maps its .dat range onto the data shards (layout.ts); a shard that is neither
// mounted here nor fetchable is rebuilt from any dataShards others (reconstruct.ts).

import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { keyFromBigInt, keyToBigInt } from "../needle/needle-id.js";
import {
  CURRENT_VERSION,
  indexEntrySize,
  type OffsetWidth,
  TOMBSTONE_FILE_SIZE,
  type Version,
} from "../types.js";
import { loadVolumeInfo } from "../volume/volume-info.js";
import { DATA_SHARDS, type EcGeometry, PARITY_SHARDS, shardExt, validShardCounts } from "./layout.js";
import { searchSortedIndex } from "./sorted-index.js";

export interface EcShardFile {
  fd: number;
  size: number;
}

export interface EcNeedleLocation {
  /** Byte offset of the record in the (virtual) .dat. */
  offset: number;
  /** The index size; TOMBSTONE_FILE_SIZE when deleted. */
  size: number;
}

/** `<dir>/<collection>_<id>` or `<dir>/<id>`. */
export function ecBaseName(dir: string, collection: string, id: number): string {
  return join(dir, collection ? `${collection}_${id}` : String(id));
}

export class EcVolume {
  readonly shards = new Map<number, EcShardFile>();
  readonly geometry: EcGeometry;
  readonly version: Version;
  readonly encodeTsNs: bigint;
  readonly expireAtSec: number;
  readonly datFileSize: number;
  readonly deleted = new Set<bigint>();
  /** The .ecx entries' offset width: the .vif's, else the store default. */
  readonly width: OffsetWidth;
  #ecx: Buffer;
  #ecjFd: number;

  constructor(
    readonly id: number,
    readonly collection: string,
    readonly dataBase: string,
    readonly indexBase: string,
    defaultWidth: OffsetWidth,
  ) {
    const info = loadVolumeInfo(`${dataBase}.vif`) ?? loadVolumeInfo(`${indexBase}.vif`);
    // The store default can change after start-up (it follows the master's build), so an .ecx
    // written before that keeps the width its volume had, which the encode records in the .vif.
    this.width = info?.bytesOffset === 4 || info?.bytesOffset === 5 ? info.bytesOffset : defaultWidth;
    const ec = info?.ecShardConfig;
    const counts = ec && validShardCounts(ec.dataShards, ec.parityShards);
    this.geometry = {
      dataShards: counts ? ec.dataShards : DATA_SHARDS,
      parityShards: counts ? ec.parityShards : PARITY_SHARDS,
      blockSize: ec?.blockSize ?? 0,
    };
    this.version = (info?.version || CURRENT_VERSION) as Version;
    this.encodeTsNs = ec?.encodeTsNs ?? 0n;
    this.expireAtSec = info?.expireAtSec ?? 0;
    this.datFileSize = info?.datFileSize ?? 0;
    this.#ecx = readFileSync(`${indexBase}.ecx`);
    this.#ecjFd = openSync(`${indexBase}.ecj`, "a+", 0o644);
    const journal = readFileSync(`${indexBase}.ecj`);
    for (let at = 0; at + 8 <= journal.length; at += 8) {
      this.deleted.add(keyToBigInt(journal.readUInt32BE(at), journal.readUInt32BE(at + 4)));
    }
  }

  /** The .ecx as loaded at mount. */
  get indexImage(): Buffer {
    return this.#ecx;
  }

  /** True when <indexBase>.ecx exists: the volume can be opened. */
  static hasIndex(indexBase: string): boolean {
    return existsSync(`${indexBase}.ecx`);
  }

  get totalShards(): number {
    return this.geometry.dataShards + this.geometry.parityShards;
  }

  /** Opens <dataBase>.ecNN; throws (ENOENT…) when the file is missing. Idempotent. */
  mountShard(shard: number): EcShardFile {
    const existing = this.shards.get(shard);
    if (existing) return existing;
    const fd = openSync(this.dataBase + shardExt(shard), "r");
    const file = { fd, size: fstatSync(fd).size };
    this.shards.set(shard, file);
    return file;
  }

  unmountShard(shard: number): boolean {
    const file = this.shards.get(shard);
    if (!file) return false;
    closeSync(file.fd);
    this.shards.delete(shard);
    return true;
  }

  /** The length of one shard file: every shard of a volume has the same. */
  shardSize(): number {
    for (const s of this.shards.values()) return s.size;
    return 0;
  }

  /** Shard ids mounted here, ascending. */
  shardIds(): number[] {
    return [...this.shards.keys()].sort((a, b) => a - b);
  }

  /** Every .ecx entry in id order; deleted needles (journal or .ecx tombstone) with a negative size. */
  walkIndex(visit: (id: bigint, offset: number, size: number) => void): void {
    const entrySize = indexEntrySize(this.width);
    const ecx = this.#ecx;
    for (let at = 0; at + entrySize <= ecx.length; at += entrySize) {
      const id = keyToBigInt(ecx.readUInt32BE(at), ecx.readUInt32BE(at + 4));
      const low = ecx.readUInt32BE(at + 8);
      const units = this.width === 5 ? ecx[at + 12]! * 0x100000000 + low : low;
      const size = ecx.readInt32BE(at + 8 + this.width);
      visit(id, units * 8, this.deleted.has(id) && size >= 0 ? -size || TOMBSTONE_FILE_SIZE : size);
    }
  }

  /** Entries in the .ecx, and how many of them are deleted. */
  fileAndDeleteCount(): { fileCount: bigint; deleteCount: bigint } {
    let files = 0n;
    let deletes = 0n;
    this.walkIndex((_id, _offset, size) => {
      files++;
      if (size < 0) deletes++;
    });
    return { fileCount: files, deleteCount: deletes };
  }

  /** The needle's record location, or undefined when the .ecx does not list it. */
  findNeedle(id: bigint): EcNeedleLocation | undefined {
    const { hi, lo } = keyFromBigInt(id);
    const at = searchSortedIndex(this.#ecx, this.width, hi, lo);
    if (at < 0) return undefined;
    const low = this.#ecx.readUInt32BE(at + 8);
    const units = this.width === 5 ? this.#ecx[at + 12]! * 0x100000000 + low : low;
    const size = this.#ecx.readInt32BE(at + 8 + this.width);
    return { offset: units * 8, size: this.deleted.has(id) ? TOMBSTONE_FILE_SIZE : size };
  }

  /** Journals a delete (synced before it counts). A needle not listed or already deleted: no-op. */
  deleteNeedle(id: bigint): void {
    const found = this.findNeedle(id);
    if (!found || found.size < 0) {
      if (found) this.deleted.add(id);
      return;
    }
    const record = Buffer.allocUnsafe(8);
    const { hi, lo } = keyFromBigInt(id);
    record.writeUInt32BE(hi >>> 0, 0);
    record.writeUInt32BE(lo >>> 0, 4);
    const before = fstatSync(this.#ecjFd).size;
    try {
      writeSync(this.#ecjFd, record);
      fsyncSync(this.#ecjFd);
    } catch (err) {
      ftruncateSync(this.#ecjFd, before);
      throw err;
    }
    this.deleted.add(id);
  }

  /** Journals every id of a peer's .ecj image not deleted here yet (collecting deletes before a decode). */
  mergeJournal(image: Buffer): void {
    const fresh: Buffer[] = [];
    for (let at = 0; at + 8 <= image.length; at += 8) {
      const id = keyToBigInt(image.readUInt32BE(at), image.readUInt32BE(at + 4));
      if (this.deleted.has(id)) continue;
      this.deleted.add(id);
      fresh.push(image.subarray(at, at + 8));
    }
    if (fresh.length === 0) return;
    writeSync(this.#ecjFd, Buffer.concat(fresh));
    fsyncSync(this.#ecjFd);
  }

  /** `length` bytes of a mounted shard at `offset`, fewer where the file ends. */
  readShard(shard: number, offset: number, length: number): Buffer {
    const file = this.shards.get(shard);
    if (!file) throw new Error(`ec shard ${this.id}.${shard} not mounted`);
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(file.fd, buf, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? buf : buf.subarray(0, got);
  }

  /** The shard file's length now (it may have changed on disk since mount). */
  currentShardSize(shard: number): number {
    const file = this.shards.get(shard);
    return file ? fstatSync(file.fd).size : 0;
  }

  close(): void {
    for (const shard of [...this.shards.keys()]) this.unmountShard(shard);
    closeSync(this.#ecjFd);
  }
}
