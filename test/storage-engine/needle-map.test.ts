import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { encodeIndexEntry } from "../../src/storage/index/idx.js";
import { MemoryNeedleMap } from "../../src/storage/index/needle-map.js";
import type { NeedleValue } from "../../src/storage/index/needle-mapper.js";

function lookup(m: MemoryNeedleMap, hi: number, lo: number): NeedleValue | undefined {
  const out = { offset: 0, size: 0 };
  return m.get(hi, lo, out) ? out : undefined;
}

const FIXTURES = "/work/shared/fixtures/seaweedfs-go";

test("puts, overwrites and deletes keep weed's counters", () => {
  const m = new MemoryNeedleMap(4, 3);
  m.put(0, 5, 1, 100);
  m.put(0, 3, 20, 50);
  m.put(0, 5, 40, 120); // overwrite: the old 100 bytes count as deleted
  assert.equal(m.remove(0, 3), 50);
  assert.equal(m.remove(0, 3), 0, "a second delete finds nothing live");
  assert.equal(m.remove(0, 99), 0);
  assert.deepEqual(lookup(m, 0, 5), { offset: 40, size: 120 });
  assert.deepEqual(
    lookup(m, 0, 3),
    { offset: 20, size: -50 },
    "a deleted entry keeps its offset, size negated",
  );
  assert.equal(lookup(m, 0, 4), undefined);
  assert.equal(m.stats.fileCount, 3);
  assert.equal(m.stats.fileBytes, 270);
  assert.equal(m.stats.deletedCount, 2);
  assert.equal(m.stats.deletedBytes, 150);
  assert.equal(m.stats.maxKeyLo, 5);
});

test("keys stay ordered whatever the insert order, across the 32-bit halves", () => {
  const m = new MemoryNeedleMap(5, 3);
  const keys: [number, number][] = [];
  for (let i = 0; i < 5000; i++) keys.push([i % 3, (i * 2654435761) >>> 0]);
  for (const [hi, lo] of keys) m.put(hi, lo, 2 ** 33 + lo, 8);
  let prev: [number, number] = [-1, 0];
  m.forEach((hi, lo) => {
    assert.ok(hi > prev[0] || (hi === prev[0] && lo > prev[1]));
    prev = [hi, lo];
  });
  for (const [hi, lo] of keys)
    assert.equal(lookup(m, hi, lo)?.offset, 2 ** 33 + lo, "5-byte offsets survive");
});

test("loading an index out of key order gives the same map as in order", () => {
  const entries: Buffer[] = [];
  for (let i = 0; i < 5000; i++) {
    const key = (i * 7919) % 5003;
    entries.push(encodeIndexEntry(4, 0, key, i + 1, 10 + (i % 7)));
    if (i % 10 === 0) entries.push(encodeIndexEntry(4, 0, key, 0, -1));
  }
  const m = MemoryNeedleMap.fromIndex(Buffer.concat(entries), 4, 3);
  const n = new MemoryNeedleMap(4, 3);
  for (let i = 0; i < 5000; i++) {
    const key = (i * 7919) % 5003;
    n.put(0, key, i + 1, 10 + (i % 7));
    if (i % 10 === 0) n.remove(0, key);
  }
  assert.deepEqual(m.stats, n.stats);
  assert.equal(m.size, n.size);
});

test("the Go index fixtures load: 4-byte offsets and a 5-byte 60,527-entry index", () => {
  const simple = MemoryNeedleMap.fromIndex(
    readFileSync(`${FIXTURES}/idx--test_files--simple_index.idx`),
    4,
    3,
  );
  assert.equal(simple.size, 2576 / 16);
  const deleted = MemoryNeedleMap.fromIndex(
    readFileSync(`${FIXTURES}/idx--test_files--deleted_files.idx`),
    4,
    3,
  );
  assert.ok(deleted.stats.deletedCount > 0);
  const truncated = MemoryNeedleMap.fromIndex(
    readFileSync(`${FIXTURES}/idx--test_files--simple_index_truncated.idx`),
    4,
    3,
  );
  assert.equal(truncated.size, Math.floor(2540 / 16), "a partial last entry is ignored");
  const big = MemoryNeedleMap.fromIndex(readFileSync(`${FIXTURES}/testdata-187.idx`), 5, 3);
  assert.equal(big.stats.fileCount + 0, big.stats.fileCount);
  assert.ok(big.size > 50_000 && big.size <= 60_527);
});
