// A volume: one .dat of appended needles, its .idx log, the in-memory needle map, and its .vif.
// Writes append the needle to the .dat and then its entry to the .idx (weed's order), so an
// interrupted write leaves at worst an unindexed tail that loading repairs or cuts off. The server
// appends through writeQueued/deleteQueued/writeBlobQueued: one append at a time, in order, large
// .dat writes off the event loop (append-queue.ts); the plain methods are for callers with no queue.

import { closeSync, fsyncSync, ftruncateSync, read, rmSync } from "node:fs";
import { join } from "node:path";
import type { RemoteDat } from "../backend/remote-dat.js";
import { nowNs } from "../clock.js";
import { encodeIndexEntry } from "../index/idx.js";
import type { NeedleMapper, NeedleValue } from "../index/needle-mapper.js";
import {
  encodeNeedle,
  FLAG_HAS_LAST_MODIFIED,
  FLAG_HAS_TTL,
  type Needle,
  NeedleError,
  newNeedle,
  parseHeader,
  parseMetaAfterData,
  parseNeedle,
} from "../needle/needle.js";
import { formatTtl, isEmptyTtl, ttlMinutes, ttlSeconds } from "../needle/ttl.js";
import {
  actualSize,
  maxVolumeSize,
  NEEDLE_HEADER_SIZE,
  type OffsetWidth,
  SUPER_BLOCK_SIZE,
  TOMBSTONE_FILE_SIZE,
  type Version,
} from "../types.js";
import { AppendQueue } from "./append-queue.js";
import { fsyncAsync, readAt, writeAt, writevAt, writevAtAsync } from "./files.js";
import { formatReplicaPlacement } from "./replica-placement.js";
import type { SuperBlock } from "./super-block.js";
import { saveVolumeInfo, type VolumeInfo } from "./volume-info.js";

export class VolumeError extends Error {
  constructor(
    message: string,
    readonly kind: "not-found" | "deleted" | "read-only" | "cookie-mismatch" | "size-limit" | "closed" | "io",
  ) {
    super(message);
    this.name = "VolumeError";
  }
}

/** Where a volume's files live and what they are called: "<collection>_<id>" or "<id>". */
export interface VolumeLocation {
  dir: string;
  /** Directory of the .idx (the -dir.idx flag), usually the same as dir. */
  idxDir: string;
  collection: string;
  id: number;
}

/** What a volume sees of its data directory: whether free space is under -minFreeSpace. */
export interface VolumeDisk {
  readonly isDiskSpaceLow: boolean;
  /** Looks at the free space again now (after a write ran out of it). */
  checkDiskSpace(): void;
}

export function volumeBaseName(collection: string, id: number): string {
  return collection === "" ? String(id) : `${collection}_${id}`;
}

export interface WriteOptions {
  /** Refuse a needle whose stored cookie differs even when the new one is 0. */
  checkCookie?: boolean;
  fsync?: boolean;
}

/**
 * Records at least this long are written to the .dat off the event loop (writeQueued): below it the
 * thread pool's round trip costs more than the copy it moves away.
 */
export const ASYNC_APPEND_MIN_BYTES = 256 * 1024;

export interface WriteResult {
  offset: number;
  size: number;
  /** The same content was already stored under this id and cookie: nothing was written. */
  unchanged: boolean;
}

export interface VolumeState {
  superBlock: SuperBlock;
  info: VolumeInfo;
  width: OffsetWidth;
  map: NeedleMapper;
  datFd: number;
  idxFd: number;
  datSize: number;
  idxSize: number;
  lastAppendAtNs: bigint;
  lastModifiedSeconds: number;
  noWriteOrDelete: boolean;
  noWriteCanDelete: boolean;
}

export class Volume {
  readonly id: number;
  readonly collection: string;
  readonly dir: string;
  readonly idxDir: string;
  superBlock: SuperBlock;
  info: VolumeInfo;
  readonly width: OffsetWidth;
  map: NeedleMapper;
  /** Scratch for map lookups: one object reused instead of one per request. */
  private readonly found: NeedleValue = { offset: 0, size: 0 };
  private datFd: number;
  private idxFd: number;
  /** The append position: the .dat's size. */
  datSize: number;
  private idxSize: number;
  lastAppendAtNs: bigint;
  lastModifiedSeconds: number;
  /** Read-only for writes and deletes (integrity trouble, unwritable files, marked read-only). */
  noWriteOrDelete: boolean;
  /** Read-only for writes, deletes still allowed. */
  noWriteCanDelete: boolean;
  private closed = false;
  /** Async reads and writes in flight; descriptors replaced or closed meanwhile wait for them. */
  private asyncIo = 0;
  private readonly appends = new AppendQueue();
  private retiredFds: number[] = [];
  /** A vacuum is compacting or committing this volume. */
  compacting = false;
  /** Set while the .dat is tiered to a remote store (.vif files): data reads are served from it. */
  remoteDat: RemoteDat | undefined;
  /** The data directory holding it, set when it joins one (see DiskLocation.volumes). */
  disk: VolumeDisk | undefined;

  constructor(location: VolumeLocation, state: VolumeState) {
    this.id = location.id;
    this.collection = location.collection;
    this.dir = location.dir;
    this.idxDir = location.idxDir;
    this.superBlock = state.superBlock;
    this.info = state.info;
    this.width = state.width;
    this.map = state.map;
    this.datFd = state.datFd;
    this.idxFd = state.idxFd;
    this.datSize = state.datSize;
    this.idxSize = state.idxSize;
    this.lastAppendAtNs = state.lastAppendAtNs;
    this.lastModifiedSeconds = state.lastModifiedSeconds;
    this.noWriteOrDelete = state.noWriteOrDelete;
    this.noWriteCanDelete = state.noWriteCanDelete;
  }

  get version(): Version {
    return this.superBlock.version;
  }

  get replication(): string {
    return formatReplicaPlacement(this.superBlock.replicaPlacement);
  }

  get ttlText(): string {
    return formatTtl(this.superBlock.ttl);
  }

  fileName(ext: ".dat" | ".idx" | ".vif" | ".ldb" | ".sdx" | string): string {
    const base = volumeBaseName(this.collection, this.id);
    const dir = [".idx", ".ldb", ".sdx", ".cpx", ".cpldb"].includes(ext) ? this.idxDir : this.dir;
    return join(dir, base + ext);
  }

  /** Writes refused: marked so, integrity trouble, or its directory short of -minFreeSpace. */
  isReadOnly(): boolean {
    return this.noWriteOrDelete || this.noWriteCanDelete || this.disk?.isDiskSpaceLow === true;
  }

  // Counters as weed reports them (heartbeat, status, vacuum).
  get fileCount(): number {
    return this.map.stats.fileCount;
  }
  get deletedCount(): number {
    return this.map.stats.deletedCount;
  }
  get deletedBytes(): number {
    return this.map.stats.deletedBytes;
  }
  get contentBytes(): number {
    return this.map.stats.fileBytes;
  }
  get maxFileKey(): bigint {
    return (BigInt(this.map.stats.maxKeyHi) << 32n) | BigInt(this.map.stats.maxKeyLo);
  }

  private checkOpen(): void {
    if (this.closed) throw new VolumeError(`volume ${this.id} is closed`, "closed");
  }

  /** Reads the needle stored for a key, verifying its checksum. */
  read(keyHi: number, keyLo: number, options: { readDeleted?: boolean } = {}): Needle {
    const { offset, size } = this.locate(keyHi, keyLo, options);
    const n = this.readAt(offset, size);
    if (this.isExpired(n)) throw new VolumeError("not found", "not-found");
    return n;
  }

  /**
   * Where a needle's record is (byte offset) and its size, as the index says; throws not-found or
   * deleted (a deleted needle is found with readDeleted, unless only its tombstone is left).
   */
  locate(
    keyHi: number,
    keyLo: number,
    options: { readDeleted?: boolean } = {},
  ): { offset: number; size: number } {
    this.checkOpen();
    const found = this.found;
    if (!this.map.get(keyHi, keyLo, found) || found.offset === 0)
      throw new VolumeError("not found", "not-found");
    let size = found.size;
    if (size < 0) {
      if (!options.readDeleted || size === TOMBSTONE_FILE_SIZE)
        throw new VolumeError("already deleted", "deleted");
      size = -size;
    }
    return { offset: found.offset * 8, size };
  }

  /** Reads data bytes off the event loop (libuv's pool), for streaming large needles. */
  readDataAsync(position: number, into: Buffer, length: number): Promise<number> {
    this.checkOpen();
    if (this.remoteDat) return this.remoteDat.readAsync(position, into, length);
    this.asyncIo++;
    return new Promise<number>((resolve, reject) => {
      read(this.datFd, into, 0, length, position, (err, n) => (err ? reject(err) : resolve(n)));
    }).finally(() => {
      if (--this.asyncIo === 0) this.closeRetired();
    });
  }

  private closeRetired(): void {
    for (const fd of this.retiredFds.splice(0)) {
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {}
    }
  }

  /**
   * Takes over the files and index of a freshly loaded copy of this volume (after a vacuum
   * commit). The old descriptors stay open until reads in flight on them are done.
   */
  adopt(fresh: Volume): void {
    this.retiredFds.push(this.datFd, this.idxFd);
    this.map.close();
    this.superBlock = fresh.superBlock;
    this.info = fresh.info;
    this.map = fresh.map;
    this.datFd = fresh.datFd;
    this.idxFd = fresh.idxFd;
    this.datSize = fresh.datSize;
    this.idxSize = fresh.idxSize;
    this.lastAppendAtNs =
      // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
      fresh.lastAppendAtNs > this.lastAppendAtNs ? fresh.lastAppendAtNs : this.lastAppendAtNs;
    this.noWriteOrDelete = fresh.noWriteOrDelete || this.info.readOnly;
    if (this.asyncIo === 0) this.closeRetired();
  }

  /** Closes the descriptors without syncing or touching files (the files were replaced). */
  releaseFiles(): void {
    this.retiredFds.push(this.datFd, this.idxFd);
    if (this.asyncIo === 0) this.closeRetired();
  }

  private readDat(length: number, position: number, into?: Buffer): Buffer {
    if (this.remoteDat) return this.remoteDat.read(length, position, into);
    return readAt(this.datFd, length, position, into);
  }

  /**
   * Serves the .dat from its remote copy from now on (weed's AttachRemoteDatFile, after the .vif
   * names it); the volume becomes read-only and the local descriptor is closed.
   */
  attachRemoteDat(remote: RemoteDat): void {
    this.remoteDat = remote;
    this.noWriteOrDelete = true;
    this.retiredFds.push(this.datFd);
    this.datFd = -1;
    if (this.asyncIo === 0) this.closeRetired();
  }

  /** Serves the .dat from a local file again (opened read-write by the caller), writable as before. */
  detachRemoteDat(datFd: number): void {
    this.remoteDat = undefined;
    this.datFd = datFd;
    this.noWriteOrDelete = this.info.readOnly;
  }

  /** Reads and parses the needle record at a byte offset, expecting the given size. */
  readAt(offset: number, size: number): Needle {
    const record = this.readDat(actualSize(size, this.version), offset);
    return parseNeedle(record, this.version, size);
  }

  /**
   * Reads a needle's header and metadata but not its data (weed's ReadNeedleMeta): for large
   * needles served in ranges. `dataOffset` is where the data bytes start in the .dat. The checksum
   * is the stored one, unverified.
   */
  readMeta(offset: number, size: number): { needle: Needle; dataOffset: number; dataSize: number } {
    this.checkOpen();
    const head = this.readDat(NEEDLE_HEADER_SIZE + 4, offset);
    const needle = newNeedle(parseHeader(head));
    if (needle.size !== size)
      throw new NeedleError(`size mismatch: found size ${needle.size}, expected ${size}`, "size-mismatch");
    if (this.version === 1) {
      const tail = this.readDat(
        actualSize(size, 1) - NEEDLE_HEADER_SIZE - size,
        offset + NEEDLE_HEADER_SIZE + size,
      );
      needle.checksum = tail.readUInt32BE(0);
      return { needle, dataOffset: offset + NEEDLE_HEADER_SIZE, dataSize: size };
    }
    const dataSize = size === 0 ? 0 : head.readUInt32BE(NEEDLE_HEADER_SIZE);
    const dataOffset = offset + NEEDLE_HEADER_SIZE + 4;
    const metaStart = dataOffset + dataSize;
    const recordEnd = offset + actualSize(size, this.version);
    const rest = this.readDat(recordEnd - metaStart, metaStart);
    const bodyEnd = offset + NEEDLE_HEADER_SIZE + size - metaStart;
    if (size > 0) parseMetaAfterData(needle, rest, 0, bodyEnd);
    needle.checksum = rest.readUInt32BE(size > 0 ? bodyEnd : 0);
    if (this.version === 3) needle.appendAtNs = rest.readBigUInt64BE((size > 0 ? bodyEnd : 0) + 4);
    return { needle, dataOffset, dataSize };
  }

  /** Reads `length` data bytes of a needle, from `dataOffset` (see readMeta) plus `start`. */
  readData(dataOffset: number, start: number, length: number, into?: Buffer): Buffer {
    this.checkOpen();
    return this.readDat(length, dataOffset + start, into);
  }

  get indexSize(): number {
    return this.idxSize;
  }

  /** Bytes of the .idx, for incremental copies and vacuum commits. */
  readIndex(position: number, length: number): Buffer {
    this.checkOpen();
    return readAt(this.idxFd, length, position);
  }

  /** The raw record bytes (header through padding), as ReadNeedleBlob returns them. */
  readBlob(offset: number, size: number, into?: Buffer): Buffer {
    this.checkOpen();
    return this.readDat(actualSize(size, this.version), offset, into);
  }

  /** A needle with a TTL is gone once its TTL has passed since it was appended. */
  isExpired(n: Needle): boolean {
    if ((n.flags & FLAG_HAS_TTL) === 0 || (n.flags & FLAG_HAS_LAST_MODIFIED) === 0) return false;
    const minutes = ttlMinutes(n.ttl);
    if (minutes === 0) return false;
    const expiresNs = n.appendAtNs + BigInt(minutes) * 60_000_000_000n;
    return nowNs() >= expiresNs;
  }

  /**
   * A TTL volume is expired once its TTL has passed since its last write (weed's expired; checked
   * only when the master has told the size limit and the volume holds data). `contentSize` is the
   * size the heartbeat reports (the .dat size).
   */
  isVolumeExpired(contentSize: number, volumeSizeLimit: number, nowSeconds = Date.now() / 1000): boolean {
    if (volumeSizeLimit === 0 || contentSize <= SUPER_BLOCK_SIZE) return false;
    const minutes = ttlMinutes(this.superBlock.ttl);
    if (minutes === 0) return false;
    const livedMinutes = Math.trunc((Math.floor(nowSeconds) - this.lastModifiedSeconds) / 60);
    return minutes < livedMinutes;
  }

  /** Expired for a while: a tenth of the TTL, at most `maxDelayMinutes` (then it is deleted). */
  isExpiredLongEnough(maxDelayMinutes: number, nowSeconds = Date.now() / 1000): boolean {
    const minutes = ttlMinutes(this.superBlock.ttl);
    if (minutes === 0) return false;
    const delay = Math.min(Math.floor(minutes / 10), maxDelayMinutes);
    return (minutes + delay) * 60 + this.lastModifiedSeconds < Math.floor(nowSeconds);
  }

  /** When this volume's data becomes garbage: last write plus TTL; 0 without a TTL. */
  expireAtSec(nowSeconds = Date.now() / 1000): number {
    const seconds = ttlSeconds(this.superBlock.ttl);
    if (seconds === 0) return 0;
    return (this.lastModifiedSeconds || Math.floor(nowSeconds)) + seconds;
  }

  /** The next append timestamp: now, but always after the previous one. */
  private nextAppendAtNs(): bigint {
    const now = nowNs();
    return now > this.lastAppendAtNs ? now : this.lastAppendAtNs + 1n;
  }

  /** True when the same id, cookie and bytes are already stored (weed answers 204 then). */
  private isUnchanged(n: Needle): boolean {
    if (!isEmptyTtl(this.superBlock.ttl)) return false;
    const found = this.found;
    if (!this.map.get(n.keyHi, n.keyLo, found) || found.offset === 0 || found.size <= 0) return false;
    try {
      const old = this.readAt(found.offset * 8, found.size);
      return old.cookie === n.cookie && old.data.equals(n.data);
    } catch {
      return false;
    }
  }

  write(n: Needle, options: WriteOptions = {}): WriteResult {
    this.refuseWhileQueued();
    const plan = this.planWrite(n, options);
    if (plan.unchanged) return plan.unchanged;
    this.append(plan.parts, plan.length, plan.offset, n.keyHi, n.keyLo, n.size, options.fsync === true);
    return this.wrote(n, plan.offset);
  }

  /**
   * write() in this volume's append order; a large needle's .dat write runs off the event loop.
   * Settles once the needle is in the .dat and the .idx (and the map).
   */
  writeQueued(n: Needle, options: WriteOptions = {}): Promise<WriteResult> {
    return this.appends.run(() => {
      const plan = this.planWrite(n, options);
      if (plan.unchanged) return plan.unchanged;
      const fsync = options.fsync === true;
      if (plan.length < ASYNC_APPEND_MIN_BYTES) {
        this.append(plan.parts, plan.length, plan.offset, n.keyHi, n.keyLo, n.size, fsync);
        return this.wrote(n, plan.offset);
      }
      return this.appendAsync(plan.parts, plan.length, plan.offset, n.keyHi, n.keyLo, n.size, fsync).then(
        () => this.wrote(n, plan.offset),
      );
    });
  }

  /** delete() in this volume's append order. */
  deleteQueued(keyHi: number, keyLo: number, cookie: number): Promise<number> {
    return this.appends.run(() => this.deleteNow(keyHi, keyLo, cookie));
  }

  /** writeBlob() in this volume's append order. */
  writeBlobQueued(keyHi: number, keyLo: number, size: number, blob: Buffer): Promise<number> {
    return this.appends.run(() => this.writeBlobNow(keyHi, keyLo, size, blob));
  }

  /** Runs `task` once the appends queued before it are done, and holds later ones until it is (a vacuum commit). */
  afterAppends<T>(task: () => T | PromiseLike<T>): Promise<T> {
    return this.appends.run(task);
  }

  /** The plain append methods must not cut into queued appends: that would break the .idx order. */
  private refuseWhileQueued(): void {
    if (this.appends.busy) throw new VolumeError(`volume ${this.id} has queued appends`, "io");
  }

  /** The needle stored: its record is in the .dat and the .idx; the map and counters follow. */
  private wrote(n: Needle, offset: number): WriteResult {
    this.lastAppendAtNs = n.appendAtNs;
    this.map.put(n.keyHi, n.keyLo, offset / 8, n.size);
    if (n.lastModified > this.lastModifiedSeconds) this.lastModifiedSeconds = n.lastModified;
    return { offset, size: n.data.length, unchanged: false };
  }

  /** Checks a write and encodes its record at the append position; or the answer when unchanged. */
  private planWrite(
    n: Needle,
    options: WriteOptions,
  ):
    | { unchanged: WriteResult; parts?: undefined }
    | { unchanged?: undefined; parts: Buffer[]; length: number; offset: number } {
    this.checkOpen();
    if (this.isReadOnly()) throw new VolumeError(`volume ${this.id} is read only`, "read-only");
    if (isEmptyTtl(n.ttl) && !isEmptyTtl(this.superBlock.ttl)) {
      n.flags |= FLAG_HAS_TTL;
      n.ttl = this.superBlock.ttl;
    }
    if (this.isUnchanged(n)) return { unchanged: { offset: 0, size: n.data.length, unchanged: true } };

    const found = this.found;
    if (this.map.get(n.keyHi, n.keyLo, found) && found.offset !== 0) {
      const header = parseHeader(readAt(this.datFd, NEEDLE_HEADER_SIZE, found.offset * 8));
      const sameNeedle = header.keyHi === n.keyHi && header.keyLo === n.keyLo;
      if (sameNeedle || header.size === found.size) {
        if (n.cookie === 0 && !options.checkCookie) n.cookie = header.cookie;
        if (header.cookie !== n.cookie) {
          throw new VolumeError(`mismatching cookie ${n.cookie.toString(16)}`, "cookie-mismatch");
        }
      }
    }

    const offset = this.datSize;
    if (offset >= maxVolumeSize(this.width) && n.data.length !== 0) {
      throw new VolumeError(`Volume Size ${offset} Exceeded ${maxVolumeSize(this.width)}`, "size-limit");
    }
    n.appendAtNs = this.nextAppendAtNs();
    const { parts, length } = encodeNeedle(n, this.version);
    return { parts, length, offset };
  }

  /**
   * Deletes a needle: appends a tombstone record and a tombstone index entry. Returns the deleted
   * needle's size, 0 when there was nothing live to delete.
   */
  delete(keyHi: number, keyLo: number, cookie: number): number {
    this.refuseWhileQueued();
    return this.deleteNow(keyHi, keyLo, cookie);
  }

  private deleteNow(keyHi: number, keyLo: number, cookie: number): number {
    this.checkOpen();
    if (this.noWriteOrDelete) throw new VolumeError(`volume ${this.id} is read only`, "read-only");
    const found = this.found;
    if (!this.map.get(keyHi, keyLo, found) || found.size < 0) return 0;
    const size = found.size;
    // weed's delete handlers read the needle first and append it without its data, so the
    // tombstone carries the deleted needle's checksum (0 for an empty needle, which is not read).
    const checksum =
      size > 0 && found.offset !== 0
        ? readAt(this.datFd, 4, found.offset * 8 + NEEDLE_HEADER_SIZE + size).readUInt32BE(0)
        : 0;
    const tombstone = newNeedle({ keyHi, keyLo, cookie, checksum, appendAtNs: this.nextAppendAtNs() });
    const offset = this.datSize;
    const { parts, length } = encodeNeedle(tombstone, this.version);
    this.append(parts, length, offset, keyHi, keyLo, TOMBSTONE_FILE_SIZE, false);
    this.lastAppendAtNs = tombstone.appendAtNs;
    this.map.remove(keyHi, keyLo);
    return size;
  }

  /** Appends a raw needle record copied from elsewhere (replication, volume copy), re-stamped. */
  writeBlob(keyHi: number, keyLo: number, size: number, blob: Buffer): number {
    this.refuseWhileQueued();
    return this.writeBlobNow(keyHi, keyLo, size, blob);
  }

  private writeBlobNow(keyHi: number, keyLo: number, size: number, blob: Buffer): number {
    this.checkOpen();
    if (this.isReadOnly()) throw new VolumeError(`volume ${this.id} is read only`, "read-only");
    const offset = this.datSize;
    let appendAtNs = this.lastAppendAtNs;
    if (this.version === 3) {
      const ts = NEEDLE_HEADER_SIZE + size + 4;
      if (ts + 8 > blob.length) throw new NeedleError("needle blob buffer too small", "corrupted");
      appendAtNs = this.nextAppendAtNs();
      blob.writeBigUInt64BE(appendAtNs, ts);
    }
    this.append([blob], blob.length, offset, keyHi, keyLo, size, false);
    this.lastAppendAtNs = appendAtNs;
    if (size >= 0 && size !== TOMBSTONE_FILE_SIZE) this.map.put(keyHi, keyLo, offset / 8, size);
    else this.map.remove(keyHi, keyLo);
    return offset;
  }

  /**
   * Appends a record to the .dat and its entry to the .idx. Either both land or neither: a failure
   * (a full disk, most often) truncates both files back, so no record outlives its index entry and
   * no index entry points past the .dat.
   */
  private append(
    parts: Buffer[],
    length: number,
    offset: number,
    keyHi: number,
    keyLo: number,
    size: number,
    fsync: boolean,
  ): void {
    const entry = encodeIndexEntry(this.width, keyHi, keyLo, offset / 8, size);
    let step: ".dat" | ".idx" = ".dat";
    try {
      writevAt(this.datFd, parts, offset);
      if (fsync) fsyncSync(this.datFd);
      step = ".idx";
      writeAt(this.idxFd, entry, this.idxSize);
      if (fsync) fsyncSync(this.idxFd);
    } catch (err) {
      this.appendFailed(err as Error, step, offset);
    }
    this.datSize = offset + length;
    this.idxSize += entry.length;
  }

  /**
   * append() with the .dat write on libuv's thread pool. Only from the append queue: nothing else
   * appends meanwhile, so the record is still the .dat's tail when its .idx entry follows it. A
   * volume closed during the write loses the record again (it was never acknowledged).
   */
  private async appendAsync(
    parts: Buffer[],
    length: number,
    offset: number,
    keyHi: number,
    keyLo: number,
    size: number,
    fsync: boolean,
  ): Promise<void> {
    const entry = encodeIndexEntry(this.width, keyHi, keyLo, offset / 8, size);
    const datFd = this.datFd;
    let step: ".dat" | ".idx" = ".dat";
    this.asyncIo++;
    try {
      await writevAtAsync(datFd, parts, offset);
      if (fsync) await fsyncAsync(datFd);
      if (this.closed) {
        // Unmounted or deleted meanwhile: the record goes (its files are still open, see close()).
        this.rollBack(offset);
        throw new VolumeError(`volume ${this.id} was closed during the write`, "closed");
      }
      step = ".idx";
      writeAt(this.idxFd, entry, this.idxSize);
      if (fsync) fsyncSync(this.idxFd);
    } catch (err) {
      if (err instanceof VolumeError) throw err;
      this.appendFailed(err as Error, step, offset);
    } finally {
      if (--this.asyncIo === 0) this.closeRetired();
    }
    this.datSize = offset + length;
    this.idxSize += entry.length;
  }

  /** A failed append: both files cut back to before it, and the error as weed words it. */
  private appendFailed(err: Error, step: ".dat" | ".idx", offset: number): never {
    const rolledBack = this.rollBack(offset);
    if ((err as NodeJS.ErrnoException).code === "ENOSPC") this.disk?.checkDiskSpace();
    const left = rolledBack ? "" : " (rolling back failed: volume now read only)";
    throw new VolumeError(
      `append to volume ${this.id} ${step} at ${step === ".dat" ? offset : this.idxSize}: ${err.message}${left}`,
      "io",
    );
  }

  /** Cuts a failed append off both files; when even that fails, the volume stops taking writes. */
  private rollBack(datSize: number): boolean {
    try {
      ftruncateSync(this.datFd, datSize);
      ftruncateSync(this.idxFd, this.idxSize);
      return true;
    } catch {
      this.noWriteOrDelete = true;
      return false;
    }
  }

  /**
   * Marks the volume read-only (writes refused; deletes too unless canDelete) or writable again,
   * persisted in the .vif when asked, as weed's MarkVolumeReadonly/Writable.
   */
  setReadOnly(readOnly: boolean, persist: boolean, canDelete = false): void {
    this.noWriteOrDelete = readOnly && !canDelete;
    this.noWriteCanDelete = readOnly && canDelete;
    if (persist || !readOnly) {
      this.info.readOnly = readOnly;
      this.info.readOnlyCanDelete = readOnly && canDelete;
      this.saveInfo();
    }
  }

  /**
   * Writes the .vif as weed does: version and offset width, the expiry of a TTL volume; the
   * replication is only recorded once set by a configure (weed leaves it empty until then).
   */
  saveInfo(): void {
    this.info.version = this.version;
    this.info.bytesOffset = this.width;
    const expireAt = this.expireAtSec();
    if (expireAt > 0) this.info.expireAtSec = expireAt;
    saveVolumeInfo(this.fileName(".vif"), this.info);
  }

  sync(): void {
    if (this.closed) return;
    if (this.datFd >= 0) fsyncSync(this.datFd);
    fsyncSync(this.idxFd);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.sync();
    } catch {}
    this.closed = true;
    this.map.close();
    // A read or write still running on the thread pool keeps the descriptors until it is done:
    // closed now, their numbers could be reused by another file under it.
    this.retiredFds.push(this.datFd, this.idxFd);
    if (this.asyncIo === 0) this.closeRetired();
  }

  /** Closes the volume and removes its files. */
  destroy(): void {
    this.close();
    for (const ext of [".dat", ".idx", ".vif", ".sdx", ".cpd", ".cpx", ".ldb", ".note"]) {
      rmSync(this.fileName(ext), { recursive: true, force: true });
    }
  }
}
