// The in-memory needle map ("-index=memory"): needle id -> (offset, size), as sorted parallel typed
// arrays (see needle-columns.ts): 16 bytes a needle with 4-byte offsets, 17 with 5-byte ones, plus
// growth slack.
//
// Why this shape: needle ids come from the master's sequence, so new keys almost always sort after
// every key held and are appended in O(1). A key that sorts earlier goes to a small sorted overflow
// area (an insert shifts at most that area), which is merged into the main arrays when it fills up;
// the merge moves blocks with memmove. Lookups are binary searches over numbers: no bigint, no
// objects, no allocation.
//
// A deleted needle keeps its entry with the size negated (a tombstone when its size was 0), so
// readDeleted can still find it. The counters follow weed's needle map metrics.

import { actualSize, indexEntrySize, type OffsetWidth, TOMBSTONE_FILE_SIZE, type Version } from "../types.js";
import type { IndexEntry } from "./idx.js";
import { sortByKey } from "./key-sort.js";
import { NeedleColumns, type SharedColumns, searchKeys } from "./needle-columns.js";
import type { NeedleMapper, NeedleValue } from "./needle-mapper.js";

const MIN_CAPACITY = 1024;
const MIN_OVERFLOW = 1024;
const MAX_OVERFLOW = 65536;
/** Growth factor of the main arrays: small enough to keep slack under a quarter. */
const GROWTH = 1.25;

export interface NeedleMapStats {
  fileCount: number;
  deletedCount: number;
  fileBytes: number;
  deletedBytes: number;
  maxKeyHi: number;
  maxKeyLo: number;
  /** End of the farthest needle an entry points at in the .dat, 0 when none. */
  maxNeedleEnd: number;
}

/** A loaded map as one thread hands it to another: its memory is shared, not copied. */
export interface SharedNeedleMap {
  width: OffsetWidth;
  version: Version;
  /** Sorted entries held in the columns. */
  count: number;
  columns: SharedColumns;
  stats: NeedleMapStats;
}

/** Overflow capacity for a map of `count` entries: near its square root, where shifting the
 * overflow and merging it cost about the same per insert. */
function overflowCapacity(count: number): number {
  return Math.min(MAX_OVERFLOW, Math.max(MIN_OVERFLOW, 2 ** Math.ceil(Math.log2(Math.sqrt(count)))));
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
  private main: NeedleColumns;
  private mainCount = 0;
  private over: NeedleColumns;
  private overCount = 0;
  /** New keys that went to the overflow (sorted before the newest key). */
  private lateInserts = 0;

  constructor(
    readonly width: OffsetWidth,
    readonly version: Version,
    capacity = MIN_CAPACITY,
  ) {
    this.main = new NeedleColumns(Math.max(MIN_CAPACITY, capacity), width === 5);
    this.over = new NeedleColumns(MIN_OVERFLOW, width === 5);
  }

  /** Live and deleted entries held. */
  get size(): number {
    return this.mainCount + this.overCount;
  }

  /** Bytes allocated for entries, slack included. */
  get memoryBytes(): number {
    return this.main.byteLength + this.over.byteLength;
  }

  get(hi: number, lo: number, out: NeedleValue): boolean {
    const main = this.main;
    const i = searchKeys(main.keyHi, main.keyLo, this.mainCount, hi >>> 0, lo >>> 0);
    if (i >= 0) {
      out.offset = main.offsetAt(i);
      out.size = main.sizes[i]!;
      return true;
    }
    if (this.overCount === 0) return false;
    const over = this.over;
    const j = searchKeys(over.keyHi, over.keyLo, this.overCount, hi >>> 0, lo >>> 0);
    if (j < 0) return false;
    out.offset = over.offsetAt(j);
    out.size = over.sizes[j]!;
    return true;
  }

  /** Records an entry; returns the size it replaced (0 when the key is new). */
  set(hi: number, lo: number, offset: number, size: number): number {
    hi >>>= 0;
    lo >>>= 0;
    const main = this.main;
    const i = searchKeys(main.keyHi, main.keyLo, this.mainCount, hi, lo);
    if (i >= 0) {
      const old = main.sizes[i]!;
      main.setValue(i, offset, size);
      return old;
    }
    if (-i - 1 === this.mainCount) {
      // After every key held (overflow keys always sort before the last main key).
      if (this.mainCount === main.capacity) this.growMain(this.mainCount + 1);
      this.main.write(this.mainCount++, hi, lo, offset, size);
      return 0;
    }
    const over = this.over;
    const j = searchKeys(over.keyHi, over.keyLo, this.overCount, hi, lo);
    if (j >= 0) {
      const old = over.sizes[j]!;
      over.setValue(j, offset, size);
      return old;
    }
    const at = -j - 1;
    over.shift(at, this.overCount, 1);
    over.write(at, hi, lo, offset, size);
    this.lateInserts++;
    if (++this.overCount === over.capacity) this.mergeOverflow();
    return 0;
  }

  /** Marks a needle deleted; returns its size when it was live, else 0. */
  delete(hi: number, lo: number): number {
    hi >>>= 0;
    lo >>>= 0;
    let columns = this.main;
    let i = searchKeys(columns.keyHi, columns.keyLo, this.mainCount, hi, lo);
    if (i < 0) {
      if (this.overCount === 0) return 0;
      columns = this.over;
      i = searchKeys(columns.keyHi, columns.keyLo, this.overCount, hi, lo);
      if (i < 0) return 0;
    }
    const size = columns.sizes[i]!;
    if (size < 0) return 0;
    columns.sizes[i] = size === 0 ? TOMBSTONE_FILE_SIZE : -size;
    return size;
  }

  /** A put as weed's map logs it: counts the file, and the old size as deleted if it was live. */
  put(hi: number, lo: number, offset: number, size: number): void {
    const oldSize = this.set(hi, lo, offset, size);
    const s = this.stats;
    s.fileCount++;
    s.fileBytes += size;
    if (oldSize > 0) {
      s.deletedCount++;
      s.deletedBytes += oldSize;
    }
    this.noteKey(hi >>> 0, lo >>> 0);
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

  /** Applies one .idx entry as weed's loader does. */
  apply(e: IndexEntry): void {
    this.applyEntry(e.keyHi, e.keyLo, e.offset, e.size);
  }

  private applyEntry(hi: number, lo: number, offset: number, size: number): void {
    this.noteKey(hi, lo);
    if (offset !== 0 && size >= 0) this.put(hi, lo, offset, size);
    else this.remove(hi, lo);
  }

  /** Visits live and deleted entries in ascending key order. */
  forEach(visit: (keyHi: number, keyLo: number, offset: number, size: number) => void): void {
    if (this.overCount > 0) this.mergeOverflow();
    const m = this.main;
    for (let i = 0; i < this.mainCount; i++) visit(m.keyHi[i]!, m.keyLo[i]!, m.offsetAt(i), m.sizes[i]!);
  }

  close(): void {
    // Memory only: the buffers go with the map.
  }

  /**
   * The shared memory behind the map, for readers in other threads: the main columns hold `count`
   * sorted entries. Call after loading (a merge or growth replaces the buffers).
   */
  sharedColumns(): { columns: NeedleColumns; count: number } {
    if (this.overCount > 0) this.mergeOverflow();
    return { columns: this.main, count: this.mainCount };
  }

  /**
   * The map for another thread (a start-up loader builds maps in workers): after this, the map
   * must not change here, as the other thread takes over the same memory.
   */
  toShared(): SharedNeedleMap {
    const { columns, count } = this.sharedColumns();
    return {
      width: this.width,
      version: this.version,
      count,
      columns: columns.toShared(),
      stats: { ...this.stats },
    };
  }

  /** A map over memory another thread built (see toShared). */
  static fromShared(shared: SharedNeedleMap): MemoryNeedleMap {
    const main = NeedleColumns.fromShared(shared.columns);
    if (main.wide !== (shared.width === 5) || shared.count > main.capacity)
      throw new Error(
        `shared needle map: ${shared.count} entries, width ${shared.width}, do not fit its columns`,
      );
    const map = new MemoryNeedleMap(shared.width, shared.version);
    map.main = main;
    map.mainCount = shared.count;
    map.over = new NeedleColumns(overflowCapacity(shared.count), main.wide);
    Object.assign(map.stats, shared.stats);
    return map;
  }

  /**
   * Builds a map from an .idx image. Keys in ascending order (the normal case) are appended as they
   * come; an index whose keys come far out of order is applied after one radix sort by key, which
   * gives the same entries and counters (entries of one key keep their log order).
   */
  static fromIndex(image: Buffer, width: OffsetWidth, version: Version): MemoryNeedleMap {
    const entrySize = indexEntrySize(width);
    const total = Math.floor(image.length / entrySize);
    const view = new DataView(image.buffer, image.byteOffset, total * entrySize);
    const map = new MemoryNeedleMap(width, version, total);
    const sizeAt = 8 + width;
    for (let n = 0, at = 0; n < total; n++, at += entrySize) {
      const hi = view.getUint32(at);
      const lo = view.getUint32(at + 4);
      const offLo = view.getUint32(at + 8);
      const offset = width === 5 ? view.getUint8(at + 12) * 0x100000000 + offLo : offLo;
      if (map.lateInserts > 2 * MIN_OVERFLOW)
        return MemoryNeedleMap.fromSortedOrder(view, total, width, version);
      map.applyEntry(hi, lo, offset, view.getInt32(at + sizeAt));
    }
    map.trim();
    return map;
  }

  private static fromSortedOrder(
    view: DataView,
    total: number,
    width: OffsetWidth,
    version: Version,
  ): MemoryNeedleMap {
    const entrySize = indexEntrySize(width);
    const keyHi = new Uint32Array(total);
    const keyLo = new Uint32Array(total);
    for (let n = 0, at = 0; n < total; n++, at += entrySize) {
      keyHi[n] = view.getUint32(at);
      keyLo[n] = view.getUint32(at + 4);
    }
    const order = sortByKey(keyHi, keyLo, total);
    const map = new MemoryNeedleMap(width, version, total);
    for (let k = 0; k < total; k++) {
      const n = order[k]!;
      const at = n * entrySize;
      const offLo = view.getUint32(at + 8);
      const offset = width === 5 ? view.getUint8(at + 12) * 0x100000000 + offLo : offLo;
      map.applyEntry(keyHi[n]!, keyLo[n]!, offset, view.getInt32(at + 8 + width));
    }
    map.trim();
    return map;
  }

  /** Gives back slack over a quarter (after loading from an index with many overwrites). */
  private trim(): void {
    const wanted = Math.max(MIN_CAPACITY, Math.ceil(this.mainCount * GROWTH));
    if (this.main.capacity > wanted) this.main = this.main.resized(wanted, this.mainCount);
  }

  private growMain(needed: number): void {
    const capacity = Math.max(needed, MIN_CAPACITY, Math.ceil(this.main.capacity * GROWTH));
    this.main = this.main.resized(capacity, this.mainCount);
  }

  /**
   * Merges the overflow into the main arrays, from the back: each overflow entry's insertion point
   * is found by binary search and the main entries after it move up as one block.
   */
  private mergeOverflow(): void {
    const over = this.over;
    const k = this.overCount;
    if (k === 0) return;
    if (this.mainCount + k > this.main.capacity) this.growMain(this.mainCount + k);
    const main = this.main;
    let end = this.mainCount; // main entries [0, end) are not yet moved
    for (let j = k - 1; j >= 0; j--) {
      const at = -searchKeys(main.keyHi, main.keyLo, end, over.keyHi[j]!, over.keyLo[j]!) - 1;
      main.shift(at, end, j + 1);
      main.copyEntry(over, j, at + j);
      end = at;
    }
    this.mainCount += k;
    this.overCount = 0;
    const wanted = overflowCapacity(this.mainCount);
    if (wanted !== over.capacity) this.over = new NeedleColumns(wanted, over.wide);
  }

  private noteKey(hi: number, lo: number): void {
    const s = this.stats;
    if (hi > s.maxKeyHi || (hi === s.maxKeyHi && lo > s.maxKeyLo)) {
      s.maxKeyHi = hi;
      s.maxKeyLo = lo;
    }
  }

  private noteNeedleEnd(offset: number, size: number): void {
    if (offset === 0 || size <= 0) return;
    const end = offset * 8 + actualSize(size, this.version);
    if (end > this.stats.maxNeedleEnd) this.stats.maxNeedleEnd = end;
  }
}
