// Queued appends (writeQueued, deleteQueued, writeBlobQueued): large .dat writes run off the event
// loop, yet every record's .idx entry follows the previous one's, as weed writes them, and nothing
// else appends, swaps or closes files under a write in flight.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readIndexEntry } from "../../src/storage/index/idx.js";
import { newNeedle } from "../../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../../src/storage/needle/ttl.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import { ASYNC_APPEND_MIN_BYTES, type Volume, VolumeError } from "../../src/storage/volume/volume.js";
import { createVolume, loadVolume } from "../../src/storage/volume/volume-load.js";
import { scratchDir } from "./support.js";

const LARGE = ASYNC_APPEND_MIN_BYTES + 1000;

function fresh(): { v: Volume; dir: string } {
  const dir = scratchDir("append-queue-");
  const v = createVolume(
    { dir, idxDir: dir, collection: "", id: 9 },
    { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width: 4 },
  );
  return { v, dir };
}

const body = (key: number, size: number) => Buffer.alloc(size, key % 251);

/** The .idx entries' offsets, in file order. */
function indexOffsets(dir: string): number[] {
  const image = readFileSync(join(dir, "9.idx"));
  const offsets: number[] = [];
  const entry = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  for (let at = 0; at + 16 <= image.length; at += 16)
    offsets.push(readIndexEntry(image, at, 4, entry).offset);
  return offsets;
}

test("large and small writes and deletes, queued at once, land in order and read back after a reload", async () => {
  const { v, dir } = fresh();
  const sizes = new Map<number, number>();
  const work: Promise<unknown>[] = [];
  for (let key = 1; key <= 40; key++) {
    const size = key % 3 === 0 ? LARGE + key : 100 + key;
    sizes.set(key, size);
    work.push(v.writeQueued(newNeedle({ keyLo: key, cookie: key, data: body(key, size) })));
    if (key % 7 === 0) work.push(v.deleteQueued(0, key - 1, key - 1).then(() => sizes.delete(key - 1)));
  }
  await Promise.all(work);
  const offsets = indexOffsets(dir);
  assert.deepEqual(
    offsets,
    [...offsets].sort((a, b) => a - b),
    ".idx entries follow the .dat's order",
  );
  v.close();
  const again = loadVolume({ dir, idxDir: dir, collection: "", id: 9 }, { defaultWidth: 4 });
  try {
    assert.equal(again.noWriteOrDelete, false, "loads writable: the .idx tail matches the .dat");
    for (let key = 1; key <= 40; key++) {
      const size = sizes.get(key);
      if (size === undefined) assert.throws(() => again.read(0, key), /deleted/);
      else assert.ok(again.read(0, key).data.equals(body(key, size)), `needle ${key}`);
    }
  } finally {
    again.close();
  }
});

test("the plain append methods refuse to cut into queued appends", async () => {
  const { v } = fresh();
  const inFlight = v.writeQueued(newNeedle({ keyLo: 1, cookie: 1, data: body(1, LARGE) }));
  assert.throws(
    () => v.write(newNeedle({ keyLo: 2, cookie: 2, data: body(2, 10) })),
    (err: unknown) => err instanceof VolumeError && /has queued appends/.test(err.message),
  );
  assert.throws(() => v.delete(0, 1, 1), /has queued appends/);
  await inFlight;
  v.write(newNeedle({ keyLo: 2, cookie: 2, data: body(2, 10) }));
  assert.equal(v.read(0, 2).data.length, 10);
  v.close();
});

test("afterAppends runs once the writes queued before it are in, and holds later ones", async () => {
  const { v } = fresh();
  const first = v.writeQueued(newNeedle({ keyLo: 1, cookie: 1, data: body(1, LARGE) }));
  let seen = -1;
  const between = v.afterAppends(() => {
    seen = v.fileCount;
  });
  const later = v.writeQueued(newNeedle({ keyLo: 2, cookie: 2, data: body(2, LARGE) }));
  await Promise.all([first, between, later]);
  assert.equal(seen, 1, "the first write was in, the later one not yet");
  assert.equal(v.fileCount, 2);
  v.close();
});

test("a volume closed under a large write keeps its files whole; the write fails as closed", async () => {
  const { v, dir } = fresh();
  await v.writeQueued(newNeedle({ keyLo: 1, cookie: 1, data: body(1, 500) }));
  const inFlight = v.writeQueued(newNeedle({ keyLo: 2, cookie: 2, data: body(2, LARGE) }));
  const queuedBehind = v.writeQueued(newNeedle({ keyLo: 3, cookie: 3, data: body(3, 50) }));
  // Let the large write reach the thread pool, then close under it.
  await new Promise((resolve) => setImmediate(resolve));
  v.close();
  await assert.rejects(inFlight, (err: unknown) => err instanceof VolumeError && err.kind === "closed");
  await assert.rejects(queuedBehind, (err: unknown) => err instanceof VolumeError);
  const again = loadVolume({ dir, idxDir: dir, collection: "", id: 9 }, { defaultWidth: 4 });
  try {
    assert.ok(again.read(0, 1).data.equals(body(1, 500)), "the acknowledged needle is there");
    assert.throws(() => again.read(0, 2), /not found/, "the write cut short left nothing");
    assert.throws(() => again.read(0, 3), /not found/);
    again.write(newNeedle({ keyLo: 4, cookie: 4, data: body(4, 70) }));
    assert.ok(again.read(0, 4).data.equals(body(4, 70)));
  } finally {
    again.close();
  }
});
