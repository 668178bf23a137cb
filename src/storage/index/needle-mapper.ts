// What a volume needs from its needle map, whichever kind backs it (-index=memory or leveldb*).

import type { NeedleMapStats } from "./needle-map.js";

/** Where a needle is: offset in 8-byte units, and its size (negative when deleted). */
export interface NeedleValue {
  offset: number;
  size: number;
}

export interface NeedleMapper {
  readonly stats: NeedleMapStats;
  /** Live and deleted entries held. */
  readonly size: number;
  /** Fills `out` and returns true when the key has an entry (deleted ones included). */
  get(hi: number, lo: number, out: NeedleValue): boolean;
  /** Records a put, counting it as weed's map metrics do. */
  put(hi: number, lo: number, offset: number, size: number): void;
  /** Marks a needle deleted; returns its size when it was live, else 0. */
  remove(hi: number, lo: number): number;
  /** Every entry in ascending key order. */
  forEach(visit: (keyHi: number, keyLo: number, offset: number, size: number) => void): void;
  close(): void;
}
