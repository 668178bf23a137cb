// A volume as a reader process sees it: the primary's files opened read-only, and a memory needle
// map that catches up on the .idx before every lookup. The primary appends a write's .idx entry
// after its .dat record and before it answers, so whatever it has acknowledged is visible here on
// the next lookup, and an entry seen here always points at a complete record.

import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { type IndexEntry, readIndexEntry } from "../../storage/index/idx.js";
import { MemoryNeedleMap } from "../../storage/index/needle-map.js";
import type { NeedleMapper, NeedleValue } from "../../storage/index/needle-mapper.js";
import { indexEntrySize, type OffsetWidth, SUPER_BLOCK_SIZE } from "../../storage/types.js";
import { readAt } from "../../storage/volume/files.js";
import { decodeSuperBlock } from "../../storage/volume/super-block.js";
import { Volume, type VolumeLocation, volumeBaseName } from "../../storage/volume/volume.js";
import { emptyVolumeInfo } from "../../storage/volume/volume-info.js";

/** What the primary tells a reader about one of its volumes. */
export interface VolumeDescriptor extends VolumeLocation {
  width: OffsetWidth;
  /** The .dat's inode: a new one (vacuum commit, copy swap) means the files were replaced. */
  datInode: number;
}

/** Entries read per catch-up system call. */
const TAIL_ENTRIES = 256;

/** A memory needle map that applies the .idx entries appended since it last looked. */
class TailingMap implements NeedleMapper {
  private readonly entry: IndexEntry = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  private readonly chunk: Buffer;
  private readonly entrySize: number;

  constructor(
    private readonly inner: MemoryNeedleMap,
    private readonly idxFd: number,
    private position: number,
    private readonly width: OffsetWidth,
  ) {
    this.entrySize = indexEntrySize(width);
    this.chunk = Buffer.allocUnsafe(this.entrySize * TAIL_ENTRIES);
  }

  private catchUp(): void {
    for (;;) {
      const n = readSync(this.idxFd, this.chunk, 0, this.chunk.length, this.position);
      const whole = n - (n % this.entrySize);
      for (let at = 0; at < whole; at += this.entrySize)
        this.inner.apply(readIndexEntry(this.chunk, at, this.width, this.entry));
      this.position += whole;
      if (n < this.chunk.length) return;
    }
  }

  get stats() {
    return this.inner.stats;
  }
  get size(): number {
    return this.inner.size;
  }
  get(hi: number, lo: number, out: NeedleValue): boolean {
    this.catchUp();
    return this.inner.get(hi, lo, out);
  }
  put(): void {
    throw new Error("a reader's needle map is read-only");
  }
  remove(): number {
    throw new Error("a reader's needle map is read-only");
  }
  forEach(visit: (keyHi: number, keyLo: number, offset: number, size: number) => void): void {
    this.catchUp();
    this.inner.forEach(visit);
  }
  close(): void {
    // The descriptor is the volume's, closed with it.
    this.inner.close();
  }
}

/** Opens a volume for reading only; nothing here writes to, repairs or locks its files. */
export function openReaderVolume(d: VolumeDescriptor): Volume {
  const base = volumeBaseName(d.collection, d.id);
  const datFd = openSync(join(d.dir, `${base}.dat`), "r");
  let idxFd = -1;
  try {
    idxFd = openSync(join(d.idxDir, `${base}.idx`), "r");
    const superBlock = decodeSuperBlock(readAt(datFd, SUPER_BLOCK_SIZE, 0), (n) =>
      readAt(datFd, n, SUPER_BLOCK_SIZE),
    );
    const image = readFileSync(idxFd);
    const whole = image.length - (image.length % indexEntrySize(d.width));
    const inner = MemoryNeedleMap.fromIndex(image.subarray(0, whole), d.width, superBlock.version);
    const map = new TailingMap(inner, idxFd, whole, d.width);
    return new Volume(d, {
      superBlock,
      info: emptyVolumeInfo(),
      width: d.width,
      map,
      datFd,
      idxFd,
      datSize: fstatSync(datFd).size,
      idxSize: whole,
      lastAppendAtNs: 0n,
      lastModifiedSeconds: 0,
      noWriteOrDelete: true,
      noWriteCanDelete: false,
    });
  } catch (err) {
    closeSync(datFd);
    if (idxFd >= 0) closeSync(idxFd);
    throw err;
  }
}
