// Creating and loading volumes. Loading follows weed's integrity rules: a missing .idx is rebuilt
// from the .dat; needles appended after the last index entry (a crash between the .dat and .idx
// writes) are re-indexed, and a torn partial record at the very end is cut off; any other
// inconsistency leaves the volume readable but read-only. Bad files fail this one volume only.

import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { encodeIndexEntry, forEachIndexEntry, type IndexEntry, readIndexEntry } from "../index/idx.js";
import { MemoryNeedleMap } from "../index/needle-map.js";
import type { NeedleMapper } from "../index/needle-mapper.js";
import { NeedleError, parseHeader, parseNeedle } from "../needle/needle.js";
import type { Ttl } from "../needle/ttl.js";
import {
  actualSize,
  CURRENT_VERSION,
  indexEntrySize,
  NEEDLE_HEADER_SIZE,
  type OffsetWidth,
  SUPER_BLOCK_SIZE,
  TOMBSTONE_FILE_SIZE,
  type Version,
} from "../types.js";
import { fileSize, readAt, ShortReadError, writeAt } from "./files.js";
import type { ReplicaPlacement } from "./replica-placement.js";
import { decodeSuperBlock, encodeSuperBlock, type SuperBlock, superBlockSize } from "./super-block.js";
import { reconcileCompaction } from "./vacuum.js";
import { Volume, type VolumeLocation, volumeBaseName } from "./volume.js";
import { emptyVolumeInfo, loadVolumeInfo } from "./volume-info.js";

/** Builds a volume's needle map from its index image; the memory map unless told otherwise. */
export type NeedleMapFactory = (args: {
  /** The volume's files without extension, for maps kept on disk (.ldb). */
  baseName: string;
  image: Buffer;
  width: OffsetWidth;
  version: Version;
}) => NeedleMapper;

export const memoryNeedleMap: NeedleMapFactory = ({ image, width, version }) =>
  MemoryNeedleMap.fromIndex(image, width, version);

export interface LoadOptions {
  /** Offset width for volumes whose .vif does not say. */
  defaultWidth: OffsetWidth;
  /** Which needle map to build (-index); memory by default. */
  needleMap?: NeedleMapFactory;
  /** Warnings about repairs and read-only decisions. */
  warn?: (message: string) => void;
}

export interface CreateOptions {
  needleMap?: NeedleMapFactory;
  replicaPlacement: ReplicaPlacement;
  ttl: Ttl;
  width: OffsetWidth;
  version?: Version;
  /** Bytes to reserve up front for the .dat (weed's -preallocate), 0 for none. */
  preallocate?: number;
}

function paths(loc: VolumeLocation) {
  const base = volumeBaseName(loc.collection, loc.id);
  return {
    dat: join(loc.dir, `${base}.dat`),
    idx: join(loc.idxDir, `${base}.idx`),
    vif: join(loc.dir, `${base}.vif`),
  };
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function createVolume(loc: VolumeLocation, options: CreateOptions): Volume {
  const p = paths(loc);
  if (existsSync(p.dat)) throw new Error(`volume data file ${p.dat} already exists`);
  const superBlock: SuperBlock = {
    version: options.version ?? CURRENT_VERSION,
    replicaPlacement: options.replicaPlacement,
    ttl: options.ttl,
    compactionRevision: 0,
    extra: Buffer.alloc(0),
  };
  const datFd = openSync(p.dat, "wx+", 0o644);
  const header = encodeSuperBlock(superBlock);
  writeAt(datFd, header, 0);
  const idxFd = openSync(p.idx, "w+", 0o644);
  const info = emptyVolumeInfo();
  const volume = new Volume(loc, {
    superBlock,
    info,
    width: options.width,
    map: (options.needleMap ?? memoryNeedleMap)({
      baseName: join(loc.idxDir, volumeBaseName(loc.collection, loc.id)),
      image: Buffer.alloc(0),
      width: options.width,
      version: superBlock.version,
    }),
    datFd,
    idxFd,
    datSize: header.length,
    idxSize: 0,
    lastAppendAtNs: 0n,
    lastModifiedSeconds: Math.floor(Date.now() / 1000),
    noWriteOrDelete: false,
    noWriteCanDelete: false,
  });
  volume.saveInfo();
  return volume;
}

export function loadVolume(loc: VolumeLocation, options: LoadOptions): Volume {
  const p = paths(loc);
  const warn = options.warn ?? (() => undefined);
  const fileName = (ext: string) =>
    join(
      ext === ".idx" || ext === ".cpx" || ext === ".ldb" ? loc.idxDir : loc.dir,
      volumeBaseName(loc.collection, loc.id) + ext,
    );
  const reconciled = reconcileCompaction(fileName);
  if (reconciled !== "none") warn(`volume ${loc.id}: interrupted vacuum ${reconciled}`);
  const storedInfo = loadVolumeInfo(p.vif);
  const info = storedInfo ?? emptyVolumeInfo();
  let width: OffsetWidth = options.defaultWidth;
  if (info.bytesOffset !== 0) {
    if (info.bytesOffset !== 4 && info.bytesOffset !== 5)
      throw new Error(`${p.vif}: bytes offset ${info.bytesOffset} is neither 4 nor 5`);
    width = info.bytesOffset;
  }
  let noWriteOrDelete = info.readOnly && !info.readOnlyCanDelete;
  const noWriteCanDelete = info.readOnly && info.readOnlyCanDelete;

  if (!existsSync(p.dat)) throw new Error(`volume data file ${p.dat} does not exist`);
  const writable = canWrite(p.dat);
  if (!writable) noWriteOrDelete = true;
  const datFd = openSync(p.dat, writable ? "r+" : "r");
  let idxFd = -1;
  try {
    const datStat = fstatSync(datFd);
    if (datStat.size < SUPER_BLOCK_SIZE) throw new Error(`volume ${p.dat} not initialized`);
    const superBlock = decodeSuperBlock(readAt(datFd, SUPER_BLOCK_SIZE, 0), (n) =>
      readAt(datFd, n, SUPER_BLOCK_SIZE),
    );
    const version = superBlock.version;
    const start = superBlockSize(superBlock);

    if (!existsSync(p.idx) && datStat.size > SUPER_BLOCK_SIZE) {
      rebuildIndex(datFd, version, start, p.idx, width);
      warn(`volume ${loc.id}: rebuilt ${p.idx} from ${p.dat}`);
    }
    const idxWritable = !existsSync(p.idx) || canWrite(p.idx);
    if (!idxWritable) noWriteOrDelete = true;
    idxFd = openSync(p.idx, existsSync(p.idx) ? (idxWritable ? "r+" : "r") : "w+", 0o644);

    const check = checkIntegrity({
      datFd,
      idxFd,
      version,
      width,
      start,
      repair: !noWriteOrDelete,
      warn,
      name: p.dat,
    });
    if (check.error) {
      noWriteOrDelete = true;
      warn(`volume ${loc.id}: data integrity check failed, read-only: ${check.error}`);
    }
    const image = readFileSync(p.idx);
    const map = (options.needleMap ?? memoryNeedleMap)({
      baseName: join(loc.idxDir, volumeBaseName(loc.collection, loc.id)),
      image,
      width,
      version,
    });
    const datSize = fileSize(datFd);
    if (map.stats.maxNeedleEnd > datSize) {
      noWriteOrDelete = true;
      warn(
        `volume ${loc.id}: idx references end=${map.stats.maxNeedleEnd} but .dat is ${datSize} bytes; read-only`,
      );
    }
    const volume = new Volume(loc, {
      superBlock,
      info,
      width,
      map,
      datFd,
      idxFd,
      datSize,
      idxSize: image.length - (image.length % indexEntrySize(width)),
      lastAppendAtNs: check.lastAppendAtNs,
      lastModifiedSeconds: Math.floor(statSync(p.dat).mtimeMs / 1000),
      noWriteOrDelete,
      noWriteCanDelete,
    });
    if (!storedInfo && writable) volume.saveInfo();
    return volume;
  } catch (err) {
    closeSync(datFd);
    if (idxFd >= 0) closeSync(idxFd);
    throw err;
  }
}

/** Writes an .idx from a scan of the .dat (to a temporary file first). */
function rebuildIndex(
  datFd: number,
  version: Version,
  start: number,
  idxPath: string,
  width: OffsetWidth,
): void {
  const datSize = fileSize(datFd);
  const entries: Buffer[] = [];
  for (let at = start; at + NEEDLE_HEADER_SIZE <= datSize; ) {
    const h = parseHeader(readAt(datFd, NEEDLE_HEADER_SIZE, at));
    if ((h.size === 0 && h.keyHi === 0 && h.keyLo === 0) || h.size < 0) break;
    const end = at + actualSize(h.size, version);
    if (end > datSize) break;
    entries.push(
      encodeIndexEntry(width, h.keyHi, h.keyLo, at / 8, h.size > 0 ? h.size : TOMBSTONE_FILE_SIZE),
    );
    at = end;
  }
  const tmp = `${idxPath}.tmp`;
  writeFileSync(tmp, Buffer.concat(entries));
  const fd = openSync(tmp, "r");
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, idxPath);
}

interface CheckInput {
  datFd: number;
  idxFd: number;
  version: Version;
  width: OffsetWidth;
  start: number;
  repair: boolean;
  warn: (m: string) => void;
  name: string;
}

/** weed's CheckVolumeDataIntegrity: returns the last append time, or the error that makes it read-only. */
function checkIntegrity(c: CheckInput): { lastAppendAtNs: bigint; error?: string } {
  const entrySize = indexEntrySize(c.width);
  let idxSize = fileSize(c.idxFd);
  if (idxSize % entrySize !== 0)
    return { lastAppendAtNs: 0n, error: `index file's size is ${idxSize} bytes, maybe corrupted` };

  if (idxSize === 0) {
    if (!c.repair) return { lastAppendAtNs: 0n };
    const r = repairTail(c, idxSize, undefined);
    if (r.error) return { lastAppendAtNs: 0n, error: r.error };
    idxSize = fileSize(c.idxFd);
    if (idxSize === 0) return { lastAppendAtNs: 0n };
  }

  let tail = findTailEntry(c, idxSize);
  if (!tail) return { lastAppendAtNs: 0n };
  if (c.repair) {
    const r = repairTail(c, idxSize, tail);
    if (r.error) c.warn(`${c.name}: unindexed .dat tail not repaired: ${r.error}`);
    if (r.reindexed > 0) {
      idxSize = fileSize(c.idxFd);
      tail = findTailEntry(c, idxSize);
      if (!tail) return { lastAppendAtNs: 0n };
    }
  }
  return verifyTail(c, tail);
}

function entryAt(c: CheckInput, position: number): IndexEntry {
  return readIndexEntry(readAt(c.idxFd, indexEntrySize(c.width), position), 0, c.width, {
    keyHi: 0,
    keyLo: 0,
    offset: 0,
    size: 0,
  });
}

const diskEnd = (e: IndexEntry, version: Version) => e.offset * 8 + actualSize(Math.max(e.size, 0), version);

/** The index entry of the needle that ends the .dat: the last entry, else the one farthest out. */
function findTailEntry(c: CheckInput, idxSize: number): IndexEntry | undefined {
  const datSize = fileSize(c.datFd);
  const last = entryAt(c, idxSize - indexEntrySize(c.width));
  if (last.offset !== 0 && diskEnd(last, c.version) === datSize) return last;
  let best: IndexEntry | undefined;
  forEachIndexEntry(readAt(c.idxFd, idxSize, 0), c.width, (e) => {
    if (e.offset !== 0 && (!best || e.offset > best.offset)) best = { ...e };
  });
  return best;
}

/**
 * Re-indexes complete needles found after the last indexed one (v3 only: their append times prove
 * the order) and cuts a torn partial record at the end of the .dat.
 */
function repairTail(
  c: CheckInput,
  idxSize: number,
  tail: IndexEntry | undefined,
): { reindexed: number; error?: string } {
  if (c.version !== 3) return { reindexed: 0 };
  const datSize = fileSize(c.datFd);
  if (datSize <= SUPER_BLOCK_SIZE) return { reindexed: 0 };
  let at = c.start;
  let lastAppendAtNs = 0n;
  if (tail) {
    at = diskEnd(tail, c.version);
    if (at >= datSize) return { reindexed: 0 };
    try {
      const anchor = readRecord(c, tail.offset * 8, Math.max(tail.size, 0));
      if (anchor.keyHi !== tail.keyHi || anchor.keyLo !== tail.keyLo)
        return { reindexed: 0, error: "last index entry does not match its needle" };
      lastAppendAtNs = anchor.appendAtNs;
    } catch (err) {
      return { reindexed: 0, error: `last indexed needle: ${(err as Error).message}` };
    }
  }
  const entries: Buffer[] = [];
  let cutAt = datSize;
  while (at < datSize) {
    if (datSize - at < NEEDLE_HEADER_SIZE) {
      cutAt = at;
      break;
    }
    const h = parseHeader(readAt(c.datFd, NEEDLE_HEADER_SIZE, at));
    if ((h.keyHi === 0 && h.keyLo === 0) || h.size < 0)
      return { reindexed: 0, error: `record at ${at} has size ${h.size}` };
    const end = at + actualSize(h.size, c.version);
    if (end > datSize) {
      cutAt = at;
      break;
    }
    let n: ReturnType<typeof readRecord>;
    try {
      n = readRecord(c, at, h.size);
    } catch (err) {
      if (end === datSize && err instanceof NeedleError) {
        cutAt = at;
        break;
      }
      return { reindexed: 0, error: `record at ${at}: ${(err as Error).message}` };
    }
    if (n.appendAtNs <= lastAppendAtNs)
      return { reindexed: 0, error: `record at ${at} was appended out of order` };
    lastAppendAtNs = n.appendAtNs;
    entries.push(
      encodeIndexEntry(c.width, h.keyHi, h.keyLo, at / 8, h.size > 0 ? h.size : TOMBSTONE_FILE_SIZE),
    );
    at = end;
  }
  if (entries.length > 0) {
    fsyncSync(c.datFd);
    writeAt(c.idxFd, Buffer.concat(entries), idxSize);
    fsyncSync(c.idxFd);
  }
  if (cutAt < datSize) {
    ftruncateSync(c.datFd, cutAt);
    fsyncSync(c.datFd);
  }
  if (entries.length > 0 || cutAt < datSize) {
    c.warn(
      `${c.name}: repaired the unindexed tail: re-indexed ${entries.length} needle(s), cut ${datSize - cutAt} bytes`,
    );
  }
  return { reindexed: entries.length };
}

function readRecord(c: CheckInput, at: number, size: number) {
  const n = parseNeedle(readAt(c.datFd, actualSize(size, c.version), at), c.version, size);
  if (size > 0 && n.data.length === 0)
    throw new NeedleError(`needle at ${at} has size ${size} but no data`, "corrupted");
  return n;
}

/** The needle the tail entry points at must be whole and end exactly at the end of the .dat. */
function verifyTail(c: CheckInput, tail: IndexEntry): { lastAppendAtNs: bigint; error?: string } {
  const datSize = fileSize(c.datFd);
  const at = tail.offset * 8;
  const size = Math.max(tail.size, 0);
  try {
    const h = parseHeader(readAt(c.datFd, NEEDLE_HEADER_SIZE, at));
    if (tail.size >= 0 && h.size !== tail.size) return { lastAppendAtNs: 0n, error: "size mismatch" };
    const end = at + actualSize(size, c.version);
    const n = readRecord(c, at, tail.size < 0 ? h.size : size);
    if (n.keyHi !== tail.keyHi || n.keyLo !== tail.keyLo) {
      return { lastAppendAtNs: n.appendAtNs, error: "index key does not match needle's id" };
    }
    if (datSize > end)
      return {
        lastAppendAtNs: n.appendAtNs,
        error: `data file actual ${datSize} bytes expected ${end} bytes`,
      };
    return { lastAppendAtNs: n.appendAtNs };
  } catch (err) {
    if (err instanceof ShortReadError)
      return { lastAppendAtNs: 0n, error: `data file has fewer bytes than the index expects` };
    return { lastAppendAtNs: 0n, error: (err as Error).message };
  }
}
