// Parallel typed-array columns holding needle map entries: key (two uint32 halves), offset (uint32
// low part, plus one high byte for 5-byte offsets) and size (int32, negative when deleted). 16 bytes
// an entry with 4-byte offsets, 17 with 5-byte ones. Each column sits in its own SharedArrayBuffer
// so that other threads can be handed the same memory; plain fixed-length views keep element access
// on V8's fast path (length-tracking views over growable buffers are several times slower).

/** The memory of a NeedleColumns, to hand to another thread. */
export interface SharedColumns {
  capacity: number;
  keyHi: SharedArrayBuffer;
  keyLo: SharedArrayBuffer;
  offLo: SharedArrayBuffer;
  offHi: SharedArrayBuffer | undefined;
  sizes: SharedArrayBuffer;
}

export class NeedleColumns {
  keyHi: Uint32Array;
  keyLo: Uint32Array;
  offLo: Uint32Array;
  offHi: Uint8Array | undefined;
  sizes: Int32Array;

  constructor(
    readonly capacity: number,
    readonly wide: boolean,
    shared?: SharedColumns,
  ) {
    const column = (which: keyof Omit<SharedColumns, "capacity">, bytes: number) => {
      const buffer = shared ? shared[which] : new SharedArrayBuffer(bytes);
      if (!buffer || buffer.byteLength !== bytes)
        throw new Error(`needle column ${which} is not ${bytes} bytes long`);
      return buffer;
    };
    this.keyHi = new Uint32Array(column("keyHi", capacity * 4));
    this.keyLo = new Uint32Array(column("keyLo", capacity * 4));
    this.offLo = new Uint32Array(column("offLo", capacity * 4));
    this.offHi = wide ? new Uint8Array(column("offHi", capacity)) : undefined;
    this.sizes = new Int32Array(column("sizes", capacity * 4));
  }

  /** Columns over memory another thread filled (see toShared); nothing is copied. */
  static fromShared(shared: SharedColumns): NeedleColumns {
    return new NeedleColumns(shared.capacity, shared.offHi !== undefined, shared);
  }

  /** The buffers behind the columns, as postMessage shares them (not copied). */
  toShared(): SharedColumns {
    return {
      capacity: this.capacity,
      keyHi: this.keyHi.buffer as SharedArrayBuffer,
      keyLo: this.keyLo.buffer as SharedArrayBuffer,
      offLo: this.offLo.buffer as SharedArrayBuffer,
      offHi: this.offHi?.buffer as SharedArrayBuffer | undefined,
      sizes: this.sizes.buffer as SharedArrayBuffer,
    };
  }

  static bytesPerEntry(wide: boolean): number {
    return wide ? 17 : 16;
  }

  get byteLength(): number {
    return this.capacity * NeedleColumns.bytesPerEntry(this.wide);
  }

  /** New columns of another capacity holding this one's first `count` entries. */
  resized(capacity: number, count: number): NeedleColumns {
    const next = new NeedleColumns(capacity, this.wide);
    const n = Math.min(count, capacity);
    next.keyHi.set(this.keyHi.subarray(0, n));
    next.keyLo.set(this.keyLo.subarray(0, n));
    next.offLo.set(this.offLo.subarray(0, n));
    if (next.offHi && this.offHi) next.offHi.set(this.offHi.subarray(0, n));
    next.sizes.set(this.sizes.subarray(0, n));
    return next;
  }

  offsetAt(i: number): number {
    return this.offHi ? this.offHi[i]! * 0x100000000 + this.offLo[i]! : this.offLo[i]!;
  }

  write(i: number, hi: number, lo: number, offset: number, size: number): void {
    this.keyHi[i] = hi;
    this.keyLo[i] = lo;
    this.setValue(i, offset, size);
  }

  setValue(i: number, offset: number, size: number): void {
    this.offLo[i] = offset % 0x100000000;
    if (this.offHi) this.offHi[i] = Math.floor(offset / 0x100000000);
    this.sizes[i] = size;
  }

  /** Moves entries [from, to) by `by` places (memmove on every column). */
  shift(from: number, to: number, by: number): void {
    if (from >= to || by === 0) return;
    this.keyHi.copyWithin(from + by, from, to);
    this.keyLo.copyWithin(from + by, from, to);
    this.offLo.copyWithin(from + by, from, to);
    this.offHi?.copyWithin(from + by, from, to);
    this.sizes.copyWithin(from + by, from, to);
  }

  /** Copies entry `i` of `src` to entry `j` here. */
  copyEntry(src: NeedleColumns, i: number, j: number): void {
    this.keyHi[j] = src.keyHi[i]!;
    this.keyLo[j] = src.keyLo[i]!;
    this.offLo[j] = src.offLo[i]!;
    if (this.offHi) this.offHi[j] = src.offHi ? src.offHi[i]! : 0;
    this.sizes[j] = src.sizes[i]!;
  }
}

/**
 * Binary search of the sorted keys [0, count): the index of the key, or -(insertion point + 1).
 * Keys are compared as unsigned 64-bit numbers (high half, then low half).
 */
export function searchKeys(
  keyHi: Uint32Array,
  keyLo: Uint32Array,
  count: number,
  hi: number,
  lo: number,
): number {
  let low = 0;
  let high = count - 1;
  // Most lookups and inserts are for the newest keys: try the last entry first.
  if (high >= 0) {
    const h = keyHi[high]!;
    const l = keyLo[high]!;
    if (h === hi && l === lo) return high;
    if (h < hi || (h === hi && l < lo)) return -(count + 1);
  }
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const h = keyHi[mid]!;
    if (h < hi) low = mid + 1;
    else if (h > hi) high = mid - 1;
    else {
      const l = keyLo[mid]!;
      if (l < lo) low = mid + 1;
      else if (l > lo) high = mid - 1;
      else return mid;
    }
  }
  return -(low + 1);
}
