// Vacuum: reclaim the space of deleted and overwritten needles, as weed's volume_vacuum.go.
//   compact  copies the live needles of a snapshot of the index into <base>.cpd / <base>.cpx (the
//            compaction revision + 1), while reads and writes go on against the old files;
//   commit   carries over what was written or deleted since the snapshot, marks the commit with a
//            <base>.cpc file, swaps the files in and reloads; a crash after the marker rolls forward
//            at the next load, a crash before it rolls back;
//   cleanup  drops the .cpd/.cpx of a compaction that will not be committed.

import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { nowNs } from "../clock.js";
import { encodeIndexEntry, type IndexEntry, readIndexEntry, writeIndexEntry } from "../index/idx.js";
import { encodeNeedle, newNeedle, parseNeedle } from "../needle/needle.js";
import { ttlMinutes } from "../needle/ttl.js";
import { actualSize, indexEntrySize, SUPER_BLOCK_SIZE, TOMBSTONE_FILE_SIZE } from "../types.js";
import { fileSize, writeAt, writevAt } from "./files.js";
import { encodeSuperBlock } from "./super-block.js";
import type { Volume } from "./volume.js";

export class VacuumError extends Error {}

/** weed's garbage level: deleted bytes over content bytes (from the .dat size when sizes are unknown). */
export function garbageLevel(v: Volume): number {
  if (v.contentBytes === 0) return 0;
  let deleted = v.deletedBytes;
  let total = v.contentBytes;
  if (v.deletedCount > 0 && v.deletedBytes === 0) {
    deleted = v.datSize - v.contentBytes - SUPER_BLOCK_SIZE;
    total = v.datSize;
  }
  return deleted / total;
}

/** Index entries written to the .cpx at a time. */
const INDEX_BATCH = 4096;

/**
 * A buffer reused for record after record, grown (to the next power of two) only when a record
 * is larger than any before it.
 */
export class RecordBuffer {
  private buf = Buffer.allocUnsafe(64 * 1024);

  /** A view of `length` bytes, valid until the next call. */
  take(length: number): Buffer {
    if (length > this.buf.length) {
      let size = this.buf.length;
      while (size < length) size *= 2;
      this.buf = Buffer.allocUnsafe(size);
    }
    return this.buf.subarray(0, length);
  }

  get capacity(): number {
    return this.buf.length;
  }
}

interface CompactionState {
  indexOffset: number;
  revision: number;
}

const pending = new WeakMap<Volume, CompactionState>();

function syncDir(path: string): void {
  const fd = openSync(dirname(path), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the live needles into .cpd/.cpx. `onProgress` receives the source offset reached and may
 * stop the compaction by returning false. Yields to the event loop as it goes, and keeps to
 * `bytesPerSecond` when it is set.
 */
export async function compact(
  v: Volume,
  options: { bytesPerSecond?: number; onProgress?: (processed: number) => boolean } = {},
): Promise<void> {
  if (v.info.files.length > 0)
    throw new VacuumError(`volume ${v.id} is tiered to remote storage, cannot compact`);
  if (v.compacting) return;
  v.compacting = true;
  try {
    v.sync();
    pending.set(v, { indexOffset: v.indexSize, revision: v.superBlock.compactionRevision });
    // A snapshot of the live entries, in key order, taken at once: writes may go on meanwhile.
    const keys: number[] = [];
    v.map.forEach((hi, lo, offset, size) => {
      if (offset !== 0 && size >= 0 && size !== TOMBSTONE_FILE_SIZE) keys.push(hi, lo, offset, size);
    });
    const sb = { ...v.superBlock, compactionRevision: (v.superBlock.compactionRevision + 1) & 0xffff };
    const header = encodeSuperBlock(sb);
    const datFd = openSync(v.fileName(".cpd"), "w+", 0o644);
    const idxFd = openSync(v.fileName(".cpx"), "w+", 0o644);
    try {
      writeAt(datFd, header, 0);
      let newOffset = header.length;
      // One record buffer and one buffer of index entries for the whole pass, so compacting does
      // not allocate per needle (the master vacuums every few minutes under overwrites; a buffer
      // per needle grew the heap and the allocator's arenas in steps that never came back).
      const record = new RecordBuffer();
      const entrySize = indexEntrySize(v.width);
      const entries = Buffer.allocUnsafe(entrySize * INDEX_BATCH);
      let entriesUsed = 0;
      let idxEnd = 0;
      const started = Date.now();
      let written = 0;
      let lastYield = Date.now();
      const nowSeconds = Math.floor(Date.now() / 1000);
      const volumeTtlSeconds = ttlMinutes(v.superBlock.ttl) * 60;
      for (let i = 0; i < keys.length; i += 4) {
        const [hi, lo, offset, size] = [keys[i]!, keys[i + 1]!, keys[i + 2]!, keys[i + 3]!];
        if (options.onProgress && !options.onProgress(offset * 8)) throw new VacuumError("interrupted");
        let blob: Buffer;
        try {
          blob = v.readBlob(offset * 8, size, record.take(actualSize(size, v.version)));
          const n = parseNeedle(blob, v.version, size);
          if (n.flags & 0x10 && nowSeconds >= n.lastModified + volumeTtlSeconds) continue;
        } catch {
          continue; // an unreadable needle is dropped, as weed's vacuum does
        }
        writeAt(datFd, blob, newOffset);
        writeIndexEntry(entries, entriesUsed * entrySize, v.width, hi, lo, newOffset / 8, size);
        if (++entriesUsed === INDEX_BATCH) {
          writeAt(idxFd, entries, idxEnd);
          idxEnd += entries.length;
          entriesUsed = 0;
        }
        newOffset += blob.length;
        written += blob.length;
        if (options.bytesPerSecond && options.bytesPerSecond > 0) {
          const due = started + (written / options.bytesPerSecond) * 1000;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        }
        if (Date.now() - lastYield > 20) {
          await new Promise((r) => setImmediate(r));
          lastYield = Date.now();
        }
      }
      writeAt(idxFd, entries.subarray(0, entriesUsed * entrySize), idxEnd);
      fsyncSync(datFd);
      fsyncSync(idxFd);
    } finally {
      closeSync(datFd);
      closeSync(idxFd);
    }
  } catch (err) {
    rmSync(v.fileName(".cpd"), { force: true });
    rmSync(v.fileName(".cpx"), { force: true });
    throw err;
  } finally {
    v.compacting = false;
  }
}

/**
 * Applies to .cpd/.cpx what the index logged after the compaction's snapshot: the latest entry of
 * each key, copying live needles and writing tombstones for deletions.
 */
function makeupDiff(v: Volume, state: CompactionState): void {
  const entrySize = indexEntrySize(v.width);
  const idxSize = v.indexSize;
  if (idxSize <= state.indexOffset) return;
  if (v.superBlock.compactionRevision !== state.revision) {
    throw new VacuumError(
      `current old dat file's compact revision ${v.superBlock.compactionRevision} is not the expected one ${state.revision}`,
    );
  }
  const tail = v.readIndex(state.indexOffset, idxSize - state.indexOffset);
  const latest = new Map<string, IndexEntry>();
  for (let at = tail.length - entrySize; at >= 0; at -= entrySize) {
    const e = readIndexEntry(tail, at, v.width, { keyHi: 0, keyLo: 0, offset: 0, size: 0 });
    const key = `${e.keyHi}:${e.keyLo}`;
    if (!latest.has(key)) latest.set(key, e);
  }
  const datFd = openSync(v.fileName(".cpd"), "r+");
  const idxFd = openSync(v.fileName(".cpx"), "r+");
  const record = new RecordBuffer();
  try {
    let datEnd = fileSize(datFd);
    let idxEnd = fileSize(idxFd);
    for (const e of latest.values()) {
      datEnd += (8 - (datEnd % 8)) % 8;
      let entry: Buffer;
      if (e.offset !== 0 && e.size > 0) {
        const blob = v.readBlob(e.offset * 8, e.size, record.take(actualSize(e.size, v.version)));
        writeAt(datFd, blob, datEnd);
        entry = encodeIndexEntry(v.width, e.keyHi, e.keyLo, datEnd / 8, e.size);
        datEnd += blob.length;
      } else {
        const tombstone = newNeedle({
          keyHi: e.keyHi,
          keyLo: e.keyLo,
          cookie: 0x12345678,
          appendAtNs: nowNs(),
        });
        const { parts, length } = encodeNeedle(tombstone, v.version);
        writevAt(datFd, parts, datEnd);
        entry = encodeIndexEntry(v.width, e.keyHi, e.keyLo, datEnd / 8, e.size);
        datEnd += length;
      }
      writeAt(idxFd, entry, idxEnd);
      idxEnd += entry.length;
    }
    fsyncSync(datFd);
    fsyncSync(idxFd);
  } finally {
    closeSync(datFd);
    closeSync(idxFd);
  }
}

/**
 * Swaps the compacted files in: carries over recent changes, writes the commit marker, renames,
 * and has the volume reload them. Returns the new .dat size.
 */
export function commit(v: Volume, reload: () => Volume): number {
  if (!existsSync(v.fileName(".cpd")) || !existsSync(v.fileName(".cpx"))) {
    throw new VacuumError(`volume ${v.id} compact swap aborted: missing .cpd/.cpx`);
  }
  const state = pending.get(v) ?? { indexOffset: v.indexSize, revision: v.superBlock.compactionRevision };
  if (v.compacting) throw new VacuumError(`volume ${v.id} is compacting`);
  v.compacting = true;
  try {
    try {
      makeupDiff(v, state);
    } catch (err) {
      rmSync(v.fileName(".cpd"), { force: true });
      rmSync(v.fileName(".cpx"), { force: true });
      throw err;
    }
    v.sync();
    const marker = openSync(v.fileName(".cpc"), "w", 0o644);
    fsyncSync(marker);
    closeSync(marker);
    syncDir(v.fileName(".cpc"));
    finishSwap(v.fileName.bind(v));
    v.adopt(reload());
    pending.delete(v);
    return v.datSize;
  } finally {
    v.compacting = false;
  }
}

/** Renames .cpd/.cpx over .dat/.idx and removes the marker; safe to run again after a crash. */
export function finishSwap(fileName: (ext: string) => string): void {
  if (existsSync(fileName(".cpd"))) renameSync(fileName(".cpd"), fileName(".dat"));
  if (existsSync(fileName(".cpx"))) renameSync(fileName(".cpx"), fileName(".idx"));
  rmSync(fileName(".ldb"), { recursive: true, force: true });
  syncDir(fileName(".dat"));
  if (dirname(fileName(".idx")) !== dirname(fileName(".dat"))) syncDir(fileName(".idx"));
  rmSync(fileName(".cpc"), { force: true });
}

/** At load: a commit marker rolls an interrupted commit forward; leftovers without one are dropped. */
export function reconcileCompaction(
  fileName: (ext: string) => string,
): "rolled-forward" | "rolled-back" | "none" {
  if (existsSync(fileName(".cpc"))) {
    finishSwap(fileName);
    return "rolled-forward";
  }
  let dropped = false;
  for (const ext of [".cpd", ".cpx"]) {
    if (existsSync(fileName(ext))) {
      rmSync(fileName(ext), { force: true });
      dropped = true;
    }
  }
  return dropped ? "rolled-back" : "none";
}

export function cleanup(v: Volume): void {
  if (existsSync(v.fileName(".cpc")))
    throw new VacuumError(`volume ${v.id}: refusing cleanup while commit marker present`);
  for (const ext of [".cpd", ".cpx", ".cpldb", ".cpc"])
    rmSync(v.fileName(ext), { recursive: true, force: true });
  pending.delete(v);
}
