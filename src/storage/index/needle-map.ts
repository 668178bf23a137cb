// The in-memory needle map ("-index=memory"): needle id -> (offset, size), kept as parallel typed
// arrays sorted by key, 16 bytes a needle with 4-byte offsets and 17 with 5-byte ones.
//
// Why this shape: needle ids come from the master's sequence, so new keys almost always land at or
// near the end; an insert shifts only the entries after it. Lookups are a binary search over numbers
// (no bigint, no objects). The arrays live in growable SharedArrayBuffers: growing commits pages in
// place without copying, and other threads can read the same memory later.
//
// A deleted needle keeps its entry with the size negated (a tombstone when its size was 0), so
// readDeleted can still find it; the counters follow weed's needle map metrics.

import { actualSize, indexEntrySize, type OffsetWidth, TOMBSTONE_FILE_SIZE, type Version } from "../types.js";
import { type IndexEntry, readIndexEntry } from "./idx.js";
import type { NeedleMapper, NeedleValue } from "./needle-mapper.js";

const INITIAL_CAPACITY = 1024;
/** 2^28 entries: 1 GiB of keys a half; far beyond what a 32 GiB or 8 TiB volume holds in practice. */
const MAX_ENTRIES = 1 << 28;

function growable(bytesPerEntry: number, entries: number): SharedArrayBuffer {
  return new SharedArrayBuffer(bytesPerEntry * entries, { maxByteLength: bytesPerEntry * MAX_ENTRIES });
}

export interface NeedleMapStats {
  fileCount: number;
  deletedCount: number;
  fileBytes: number;
  deletedBytes: number;
  maxKeyHi: number;
  maxKeyLo: number;
  /** End of the farthest live needle in the .dat, 0 when none. */
  maxNeedleEnd: number;
}

export class MemoryNeedleMap implements NeedleMapper {
  readonly stats: NeedleMapStats = {
    fileCount: 0,
    deletedCount: 0,
    fileBytes: 0,
    deletedBytes: 0,
    maxKeyHi: 0,
    maxKeyLo: 0,
    maxNeedleEnd: 0,
  };
  private count = 0;
  private capacity = INITIAL_CAPACITY;
  private readonly buffers: SharedArrayBuffer[];
  private keyHi: Uint32Array;
  private keyLo: Uint32Array;
  private offLo: Uint32Array;
  private offHi: Uint8Array | undefined;
  private sizes: Int32Array;

  constructor(
    readonly width: OffsetWidth,
    readonly version: Version,
  ) {
    this.buffers = [
      growable(4, INITIAL_CAPACITY),
      growable(4, INITIAL_CAPACITY),
      growable(4, INITIAL_CAPACITY),
    ];
    this.buffers.push(growable(4, INITIAL_CAPACITY));
    if (width === 5) this.buffers.push(growable(1, INITIAL_CAPACITY));
    // Length-tracking views follow the buffers as they grow.
    this.keyHi = new Uint32Array(this.buffers[0]!);
    this.keyLo = new Uint32Array(this.buffers[1]!);
    this.offLo = new Uint32Array(this.buffers[2]!);
    this.sizes = new Int32Array(this.buffers[3]!);
    this.offHi = width === 5 ? new Uint8Array(this.buffers[4]!) : undefined;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held for entries (committed, not reserved address space). */
  get memoryBytes(): number {
    return this.buffers.reduce((sum, b) => sum + b.byteLength, 0);
  }

  /** The entry's position, or -1. Valid until the next insert. */
  find(hi: number, lo: number): number {
    const keyHi = this.keyHi;
    const keyLo = this.keyLo;
    let low = 0;
    let high = this.count - 1;
    hi >>>= 0;
    lo >>>= 0;
    // Most lookups are for recent keys: check the end first.
    if (high >= 0 && keyHi[high] === hi && keyLo[high] === lo) return high;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const h = keyHi[mid]!;
      if (h < hi || (h === hi && keyLo[mid]! < lo)) low = mid + 1;
      else if (h === hi && keyLo[mid] === lo) return mid;
      else high = mid - 1;
    }
    return -(low + 1);
  }

  offsetAt(i: number): number {
    return this.offHi ? this.offHi[i]! * 0x100000000 + this.offLo[i]! : this.offLo[i]!;
  }

  sizeAt(i: number): number {
    return this.sizes[i]!;
  }

  keyHiAt(i: number): number {
    return this.keyHi[i]!;
  }

  keyLoAt(i: number): number {
    return this.keyLo[i]!;
  }

  get(hi: number, lo: number, out: NeedleValue): boolean {
    const i = this.find(hi, lo);
    if (i < 0) return false;
    out.offset = this.offsetAt(i);
    out.size = this.sizes[i]!;
    return true;
  }

  close(): void {
    // Memory only: nothing to release beyond the buffers, which go with the map.
  }

  /** Records a live needle; returns the size it replaced (0 when new). */
  set(hi: number, lo: number, offset: number, size: number): number {
    let i = this.find(hi, lo);
    let oldSize = 0;
    if (i >= 0) {
      oldSize = this.sizes[i]!;
    } else {
      i = -i - 1;
      this.insertAt(i, hi, lo);
    }
    this.offLo[i] = offset % 0x100000000;
    if (this.offHi) this.offHi[i] = Math.floor(offset / 0x100000000);
    this.sizes[i] = size;
    this.noteKey(hi, lo);
    return oldSize;
  }

  /** Marks a needle deleted; returns its size when it was live, else 0. */
  delete(hi: number, lo: number): number {
    const i = this.find(hi, lo);
    if (i < 0) return 0;
    const size = this.sizes[i]!;
    if (size < 0) return 0;
    this.sizes[i] = size === 0 ? TOMBSTONE_FILE_SIZE : -size;
    return size;
  }

  /** A put as weed's map logs it: counts the file, and the old size as deleted if it was live. */
  put(hi: number, lo: number, offset: number, size: number): void {
    const oldSize = this.set(hi, lo, offset, size);
    this.stats.fileCount++;
    this.stats.fileBytes += size;
    if (oldSize > 0) {
      this.stats.deletedCount++;
      this.stats.deletedBytes += oldSize;
    }
    this.noteNeedleEnd(offset, size);
  }

  /** A delete as weed's map logs it. */
  remove(hi: number, lo: number): number {
    const deleted = this.delete(hi, lo);
    if (deleted > 0) {
      this.stats.deletedCount++;
      this.stats.deletedBytes += deleted;
    }
    return deleted;
  }

  /** Applies one .idx entry during loading. */
  apply(e: IndexEntry): void {
    this.noteKey(e.keyHi, e.keyLo);
    if (e.offset !== 0 && e.size >= 0 && e.size !== TOMBSTONE_FILE_SIZE) {
      this.put(e.keyHi, e.keyLo, e.offset, e.size);
    } else {
      this.remove(e.keyHi, e.keyLo);
    }
  }

  /** Visits live and deleted entries in key order. */
  forEach(visit: (keyHi: number, keyLo: number, offset: number, size: number) => void): void {
    for (let i = 0; i < this.count; i++)
      visit(this.keyHi[i]!, this.keyLo[i]!, this.offsetAt(i), this.sizes[i]!);
  }

  /**
   * Builds a map from an index image. Keys in (nearly) ascending order are applied as they come;
   * an index whose keys arrive far out of order is applied key by key after one sort instead, which
   * gives the same entries and counters without shifting the arrays for every insert.
   */
  static fromIndex(image: Buffer, width: OffsetWidth, version: Version): MemoryNeedleMap {
    const map = new MemoryNeedleMap(width, version);
    const entrySize = indexEntrySize(width);
    const total = Math.floor(image.length / entrySize);
    map.reserve(total);
    const entry: IndexEntry = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
    let shifted = 0;
    for (let at = 0, n = 0; n < total; n++, at += entrySize) {
      readIndexEntry(image, at, width, entry);
      if (map.appendIfLast(entry)) continue;
      const i = map.find(entry.keyHi, entry.keyLo);
      if (i < 0 && -i - 1 < map.count - 64 && ++shifted > 1024)
        return MemoryNeedleMap.fromUnsortedIndex(image, width, version);
      map.apply(entry);
    }
    return map;
  }

  /** The common loading case: a live entry with a key above every key so far goes at the end. */
  private appendIfLast(e: IndexEntry): boolean {
    const n = this.count;
    const hi = e.keyHi;
    const lo = e.keyLo;
    if (n > 0) {
      const lastHi = this.keyHi[n - 1]!;
      if (hi < lastHi || (hi === lastHi && lo <= this.keyLo[n - 1]!)) return false;
    }
    if (e.offset === 0 || e.size < 0) return false;
    if (n === this.capacity) return false;
    this.keyHi[n] = hi;
    this.keyLo[n] = lo;
    this.offLo[n] = e.offset % 0x100000000;
    if (this.offHi) this.offHi[n] = Math.floor(e.offset / 0x100000000);
    this.sizes[n] = e.size;
    this.count = n + 1;
    const s = this.stats;
    s.maxKeyHi = hi;
    s.maxKeyLo = lo;
    s.fileCount++;
    s.fileBytes += e.size;
    this.noteNeedleEnd(e.offset, e.size);
    return true;
  }

  private static fromUnsortedIndex(image: Buffer, width: OffsetWidth, version: Version): MemoryNeedleMap {
    const entrySize = indexEntrySize(width);
    const total = Math.floor(image.length / entrySize);
    const entries = Array.from({ length: total }, (_, n) =>
      readIndexEntry(image, n * entrySize, width, { keyHi: 0, keyLo: 0, offset: 0, size: 0 }),
    );
    // A stable sort keeps each key's entries in log order.
    const order = Array.from({ length: total }, (_, n) => n);
    order.sort((a, b) => {
      const x = entries[a]!;
      const y = entries[b]!;
      return x.keyHi !== y.keyHi ? x.keyHi - y.keyHi : x.keyLo !== y.keyLo ? x.keyLo - y.keyLo : a - b;
    });
    const map = new MemoryNeedleMap(width, version);
    map.reserve(total);
    for (const n of order) map.apply(entries[n]!);
    return map;
  }

  private reserve(entries: number): void {
    if (entries <= this.capacity) return;
    if (entries > MAX_ENTRIES) throw new Error(`needle map cannot hold ${entries} entries`);
    for (const b of this.buffers) b.grow((b.byteLength / this.capacity) * entries);
    this.capacity = entries;
  }

  private insertAt(i: number, hi: number, lo: number): void {
    if (this.count === this.capacity) {
      // Grow by an eighth (at least 1024): pages are committed in place, so small steps are cheap
      // and the slack stays small.
      this.reserve(Math.min(MAX_ENTRIES, this.capacity + Math.max(1024, this.capacity >>> 3)));
    }
    const n = this.count;
    if (i < n) {
      this.keyHi.copyWithin(i + 1, i, n);
      this.keyLo.copyWithin(i + 1, i, n);
      this.offLo.copyWithin(i + 1, i, n);
      this.offHi?.copyWithin(i + 1, i, n);
      this.sizes.copyWithin(i + 1, i, n);
    }
    this.keyHi[i] = hi;
    this.keyLo[i] = lo;
    this.count = n + 1;
  }

  private noteKey(hi: number, lo: number): void {
    const s = this.stats;
    if (hi > s.maxKeyHi || (hi === s.maxKeyHi && lo >>> 0 > s.maxKeyLo)) {
      s.maxKeyHi = hi >>> 0;
      s.maxKeyLo = lo >>> 0;
    }
  }

  private noteNeedleEnd(offset: number, size: number): void {
    if (offset === 0 || size <= 0) return;
    const end = offset * 8 + actualSize(size, this.version);
    if (end > this.stats.maxNeedleEnd) this.stats.maxNeedleEnd = end;
  }
}
