// The LevelDB needle map's updates that LevelDB has not written yet. Reads look here first; an
// update leaves once the batch that carries it is written (unless a later update replaced it).

import { mapKey } from "./leveldb-format.js";

export interface PendingEntry {
  hi: number;
  lo: number;
  offset: number;
  size: number;
  /** The write batch that carries it. */
  seq: number;
}

export class WriteOverlay {
  private readonly entries = new Map<number | string, PendingEntry>();
  /** Keys in the order they were updated, with the batch of each update. */
  private readonly keys: (number | string)[] = [];
  private readonly seqs: number[] = [];
  private head = 0;

  get size(): number {
    return this.entries.size;
  }

  get(hi: number, lo: number): PendingEntry | undefined {
    return this.entries.get(mapKey(hi >>> 0, lo >>> 0));
  }

  set(hi: number, lo: number, offset: number, size: number, seq: number): void {
    const k = mapKey(hi, lo);
    this.entries.set(k, { hi, lo, offset, size, seq });
    this.keys.push(k);
    this.seqs.push(seq);
  }

  /** Drops what batches up to `acked` wrote (sequence numbers wrap around 2^31). */
  prune(acked: number): void {
    const { keys, seqs } = this;
    let head = this.head;
    while (head < keys.length && ((acked - seqs[head]!) | 0) >= 0) {
      const k = keys[head]!;
      if (this.entries.get(k)?.seq === seqs[head]) this.entries.delete(k);
      head++;
    }
    if (head === keys.length) {
      keys.length = 0;
      seqs.length = 0;
      head = 0;
    } else if (head > 4096 && head * 2 > keys.length) {
      keys.splice(0, head);
      seqs.splice(0, head);
      head = 0;
    }
    this.head = head;
  }

  /** The entries in key order. */
  sorted(): PendingEntry[] {
    return [...this.entries.values()].sort((a, b) => a.hi - b.hi || a.lo - b.lo);
  }
}
