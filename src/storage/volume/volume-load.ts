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
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { RemoteDat } from "../backend/remote-dat.js";
import { openTieredDat } from "../backend/tiered-dat.js";
import { encodeIndexEntry } from "../index/idx.js";
import { MemoryNeedleMap } from "../index/needle-map.js";
import type { NeedleMapper } from "../index/needle-mapper.js";
import { parseHeader } from "../needle/needle.js";
import { type Ttl, ttlMinutes } from "../needle/ttl.js";
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
import { fileSize, readAt, writeAt } from "./files.js";
import type { ReplicaPlacement } from "./replica-placement.js";
import { decodeSuperBlock, encodeSuperBlock, type SuperBlock, superBlockSize } from "./super-block.js";
import { reconcileCompaction } from "./vacuum.js";
import { Volume, type VolumeLocation, volumeBaseName } from "./volume.js";
import { checkVolumeIntegrity, lastWriteAppendAtNs } from "./volume-check.js";
import { emptyVolumeInfo, loadVolumeInfo, type VolumeInfo } from "./volume-info.js";

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

/**
 * A volume whose files are open, repaired and checked, its needle map not built yet: the first half
 * of loadVolume, which the start-up loader runs on the main thread while worker threads build the
 * maps (see store/volume-loader.ts). Pass it to completeVolume, or to closeOpenedVolume.
 */
export interface OpenedVolume {
  loc: VolumeLocation;
  /** The .idx to build the needle map from. */
  idxPath: string;
  /** The volume's files without extension in the index directory, for maps kept on disk (.ldb). */
  mapBaseName: string;
  datPath: string;
  superBlock: SuperBlock;
  info: VolumeInfo;
  /** The .vif was missing: completeVolume writes one (when the .dat is writable). */
  saveInfo: boolean;
  width: OffsetWidth;
  datFd: number;
  idxFd: number;
  lastAppendAtNs: bigint;
  noWriteOrDelete: boolean;
  noWriteCanDelete: boolean;
  /** The .dat is tiered (no local copy): reads go to this remote object. */
  remoteDat?: RemoteDat;
}

export function loadVolume(loc: VolumeLocation, options: LoadOptions): Volume {
  const opened = openVolume(loc, options);
  let built: { map: NeedleMapper; idxLength: number };
  try {
    built = readNeedleMap(opened, options.needleMap);
  } catch (err) {
    closeOpenedVolume(opened);
    throw err;
  }
  return completeVolume(opened, built.map, built.idxLength, options);
}

/** Reads an opened volume's .idx and builds its needle map on this thread. */
export function readNeedleMap(
  opened: OpenedVolume,
  needleMap: NeedleMapFactory = memoryNeedleMap,
): { map: NeedleMapper; idxLength: number } {
  const image = readFileSync(opened.idxPath);
  const map = needleMap({
    baseName: opened.mapBaseName,
    image,
    width: opened.width,
    version: opened.superBlock.version,
  });
  return { map, idxLength: image.length };
}

/**
 * Opens a volume's files and runs weed's checks: an interrupted vacuum is settled, a missing .idx
 * rebuilt from the .dat, the .dat's tail checked against the .idx (and repaired when torn).
 */
export function openVolume(loc: VolumeLocation, options: LoadOptions): OpenedVolume {
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
  // A .vif naming a remote .dat means the volume is tiered: a local copy must not drift from it.
  let noWriteOrDelete = (info.readOnly && !info.readOnlyCanDelete) || info.files.length > 0;
  const noWriteCanDelete = info.readOnly && info.readOnlyCanDelete;

  const where = {
    loc,
    idxPath: p.idx,
    mapBaseName: join(loc.idxDir, volumeBaseName(loc.collection, loc.id)),
    datPath: p.dat,
  };
  const remoteFile = info.files[0];
  if (remoteFile && !existsSync(p.dat)) {
    // Tiered: the super block comes from the remote object; the .idx stays local.
    const remoteDat = openTieredDat(remoteFile);
    const superBlock = decodeSuperBlock(remoteDat.read(SUPER_BLOCK_SIZE, 0), (n) =>
      remoteDat.read(n, SUPER_BLOCK_SIZE),
    );
    if (!existsSync(p.idx)) throw new Error(`volume ${loc.id} is tiered but ${p.idx} does not exist`);
    const idxFd = openSync(p.idx, canWrite(p.idx) ? "r+" : "r");
    return {
      ...where,
      superBlock,
      info,
      saveInfo: false,
      width,
      datFd: -1,
      idxFd,
      lastAppendAtNs: 0n,
      noWriteOrDelete: true,
      noWriteCanDelete,
      remoteDat,
    };
  }
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

    const check = checkVolumeIntegrity({
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
    return {
      ...where,
      superBlock,
      info,
      saveInfo: !storedInfo && writable,
      width,
      datFd,
      idxFd,
      lastAppendAtNs: check.lastAppendAtNs,
      noWriteOrDelete,
      noWriteCanDelete,
    };
  } catch (err) {
    closeSync(datFd);
    if (idxFd >= 0) closeSync(idxFd);
    throw err;
  }
}

/** Closes what openVolume opened (a volume given up before completeVolume). */
export function closeOpenedVolume(opened: OpenedVolume): void {
  if (opened.datFd >= 0) closeSync(opened.datFd);
  closeSync(opened.idxFd);
}

/**
 * The second half of loadVolume: the volume from its opened files and the needle map built from
 * its .idx (`idxLength` bytes when read). On failure the files and the map are closed.
 */
export function completeVolume(
  opened: OpenedVolume,
  map: NeedleMapper,
  idxLength: number,
  options: Pick<LoadOptions, "warn">,
): Volume {
  const warn = options.warn ?? (() => undefined);
  const { loc, datFd, idxFd, superBlock, width } = opened;
  try {
    let noWriteOrDelete = opened.noWriteOrDelete;
    const remote = opened.remoteDat;
    const datSize = remote ? remote.size : fileSize(datFd);
    if (map.stats.maxNeedleEnd > datSize) {
      noWriteOrDelete = true;
      warn(
        `volume ${loc.id}: idx references end=${map.stats.maxNeedleEnd} but .dat is ${datSize} bytes; read-only`,
      );
    }
    const volume = new Volume(loc, {
      superBlock,
      info: opened.info,
      width,
      map,
      datFd,
      idxFd,
      datSize,
      idxSize: idxLength - (idxLength % indexEntrySize(width)),
      lastAppendAtNs: opened.lastAppendAtNs,
      lastModifiedSeconds: remote
        ? (opened.info.files[0]?.modifiedTime ?? 0)
        : recoverLastModified(
            datFd,
            idxFd,
            superBlock.version,
            width,
            superBlock,
            statSync(opened.datPath).mtimeMs,
          ),
      noWriteOrDelete,
      noWriteCanDelete: opened.noWriteCanDelete,
    });
    if (opened.saveInfo) volume.saveInfo();
    if (remote) volume.attachRemoteDat(remote);
    return volume;
  } catch (err) {
    closeOpenedVolume(opened);
    try {
      map.close();
    } catch {
      // The load's own error is the one to report.
    }
    throw err;
  }
}

/**
 * A TTL volume expires a TTL after its last write. The .dat's mtime moves on deletes and vacuums
 * too, so, as weed does, the newest write's append time is read back from the needles instead.
 */
function recoverLastModified(
  datFd: number,
  idxFd: number,
  version: Version,
  width: OffsetWidth,
  superBlock: SuperBlock,
  mtimeMs: number,
): number {
  const mtime = Math.floor(mtimeMs / 1000);
  if (ttlMinutes(superBlock.ttl) === 0) return mtime;
  try {
    const ns = lastWriteAppendAtNs({ datFd, idxFd, version, width }, superBlock.compactionRevision > 0);
    return ns > 0n ? Number(ns / 1_000_000_000n) : mtime;
  } catch {
    return mtime;
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
