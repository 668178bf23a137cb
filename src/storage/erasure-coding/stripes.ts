// The I/O and coding pipeline of EC encode and rebuild: a volume is coded stripe by stripe (one
// piece of every shard), and while stripe s is coded on this thread, the reads of stripe s + 1 and
// the writes of stripe s - 1 run on the libuv pool, each stripe in its own slot of a coding arena.

import { read, write } from "node:fs";
import { type CodingArena, createArena } from "./reed-solomon/arena.js";

/** Bytes of each shard per stripe: large sequential reads and writes, a small arena. */
export const STRIPE_BYTES = 1024 * 1024;
/** Slots of the arena: one being read, one coded, one written. */
export const SLOTS = 3;

export interface StripeStages {
  /** Fills the slot with the inputs of `stripe`. */
  read(slot: number, stripe: number): Promise<void>;
  /** Codes the slot in place, on this thread. */
  code(slot: number, stripe: number): void;
  /** Writes the slot's outputs of `stripe` out. */
  write(slot: number, stripe: number): Promise<void>;
}

/** Runs `count` stripes through the stages, reads and writes overlapping the coding. */
export async function runStripes(count: number, stages: StripeStages): Promise<void> {
  const inFlight: Promise<void>[] = [];
  // Failures surface where the promise is awaited; this only keeps an early one from going unhandled.
  const track = (p: Promise<void>) => {
    p.catch(() => {});
    inFlight.push(p);
    return p;
  };
  const reads: Promise<void>[] = [];
  const writes: Promise<void>[] = [];
  try {
    if (count > 0) reads[0] = track(stages.read(0, 0));
    for (let s = 0; s < count; s++) {
      await reads[s];
      const next = s + 1;
      if (next < count) {
        // The next stripe's slot was last used by stripe next - SLOTS: its writes must be done.
        if (next >= SLOTS) await writes[next - SLOTS];
        reads[next] = track(stages.read(next % SLOTS, next));
      }
      stages.code(s % SLOTS, s);
      writes[s] = track(stages.write(s % SLOTS, s));
    }
    await Promise.all(writes);
  } finally {
    // Nothing may still be reading into or writing from the arena once this returns.
    await Promise.allSettled(inFlight);
  }
}

/** Reads up to into.length bytes at `position`, stopping at `limit`; zero-fills what is left. */
export async function readFull(
  fd: number,
  into: Uint8Array,
  position: number,
  limit = Infinity,
): Promise<number> {
  const want = Math.max(0, Math.min(into.length, limit - position));
  let got = 0;
  while (got < want) {
    const n = await new Promise<number>((resolve, reject) =>
      read(fd, into, got, want - got, position + got, (err, bytes) => (err ? reject(err) : resolve(bytes))),
    );
    if (n === 0) break;
    got += n;
  }
  into.fill(0, got);
  return got;
}

/** Writes all of `data` at `position`. */
export async function writeFull(fd: number, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    done += await new Promise<number>((resolve, reject) =>
      write(fd, data, done, data.length - done, position + done, (err, bytes) =>
        err ? reject(err) : resolve(bytes),
      ),
    );
  }
}

let cached: CodingArena | undefined;

/**
 * An arena of SLOTS slots of `rows` x `stride` bytes. The last one is kept: the next job, on the
 * same geometry, needs the same size, and tens of MiB are not allocated and zeroed again.
 */
function stripeArena(rows: number, stride: number): CodingArena {
  const size = SLOTS * rows * stride;
  if (cached?.bytes.length !== size) cached = createArena(size);
  return cached;
}

/** Byte offset in the arena of row `row` of slot `slot`. */
function rowAt(slot: number, row: number, rows: number, stride: number): number {
  return (slot * rows + row) * stride;
}

/** Where a job's stripes sit: `rows` shard pieces of up to STRIPE_BYTES each, over `size` bytes. */
export interface StripeLayout {
  arena: CodingArena;
  stride: number;
  /** Stripes in all. */
  count: number;
  /** Bytes of each piece of `stripe` (the last one may be short). */
  lengthOf(stripe: number): number;
  /** Byte offset in the arena of row `row` of slot `slot`. */
  at(slot: number, row: number): number;
  /** The first `n` bytes of row `row` of slot `slot`. */
  row(slot: number, row: number, n: number): Uint8Array;
}

export function stripeLayout(rows: number, size: number): StripeLayout {
  const stride = Math.min(STRIPE_BYTES, size);
  const arena = stripeArena(rows, stride);
  const at = (slot: number, row: number) => rowAt(slot, row, rows, stride);
  return {
    arena,
    stride,
    count: Math.ceil(size / stride),
    lengthOf: (stripe) => Math.min(stride, size - stripe * stride),
    at,
    row: (slot, row, n) => arena.bytes.subarray(at(slot, row), at(slot, row) + n),
  };
}
