import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  encodeIndexEntry,
  forEachIndexEntry,
  readIndexEntry,
  writeIndexEntry,
} from "../../src/storage/index/idx.js";
import { sortByKey } from "../../src/storage/index/key-sort.js";
import { MemoryNeedleMap } from "../../src/storage/index/needle-map.js";
import type { NeedleValue } from "../../src/storage/index/needle-mapper.js";
import { keyToBigInt } from "../../src/storage/needle/needle-id.js";
import { indexEntrySize, type OffsetWidth } from "../../src/storage/types.js";
import { fixture, hex, vectors } from "./support.js";

interface GoMapStats {
  fileCount: number;
  deletedCount: number;
  contentSize: number;
  deletedSize: number;
  maxFileKey: string;
  maxNeedleEnd: number;
}

function lookup(m: MemoryNeedleMap, hi: number, lo: number): NeedleValue | undefined {
  const out = { offset: 0, size: 0 };
  return m.get(hi, lo, out) ? out : undefined;
}

function assertGoStats(m: MemoryNeedleMap, go: GoMapStats): void {
  assert.equal(m.stats.fileCount, go.fileCount);
  assert.equal(m.stats.deletedCount, go.deletedCount);
  assert.equal(m.stats.fileBytes, go.contentSize);
  assert.equal(m.stats.deletedBytes, go.deletedSize);
  assert.equal(keyToBigInt(m.stats.maxKeyHi, m.stats.maxKeyLo).toString(), go.maxFileKey);
  assert.equal(m.stats.maxNeedleEnd, go.maxNeedleEnd);
}

for (const [width, file] of [
  [4, "map-stats-4byte.json"],
  [5, "map-stats-5byte.json"],
] as [OffsetWidth, string][]) {
  for (const [name, go] of Object.entries(vectors<Record<string, GoMapStats>>(file))) {
    test(`${name} (${width}-byte offsets) loads with Go's counters`, () => {
      const image = readFileSync(fixture(name));
      const m = MemoryNeedleMap.fromIndex(image, width, 3);
      assertGoStats(m, go);
      // Every key's last entry decides what the map holds.
      const last = new Map<bigint, { offset: number; size: number }>();
      forEachIndexEntry(image, width, (e) =>
        last.set(keyToBigInt(e.keyHi, e.keyLo), { offset: e.offset, size: e.size }),
      );
      for (const [key, e] of last) {
        const got = lookup(m, Number(key >> 32n), Number(key & 0xffffffffn));
        if (e.offset !== 0 && e.size >= 0) assert.deepEqual(got, e);
        else if (got) assert.ok(got.size < 0, "deleted");
      }
    });
  }
}

test("testdata-187.idx: 60,527 entries of 17 bytes, big offsets intact", () => {
  const image = readFileSync(fixture("testdata-187.idx"));
  assert.equal(image.length % 17, 0);
  assert.equal(image.length / 17, 60527);
  const m = MemoryNeedleMap.fromIndex(image, 5, 3);
  const e = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  let beyond32 = 0;
  for (let at = 0; at < image.length; at += 17) {
    readIndexEntry(image, at, 5, e);
    if (e.offset >= 2 ** 32) beyond32++;
  }
  assert.ok(beyond32 > 0, "the fixture has offsets past 32 GiB");
  // Written back, every entry is byte-identical.
  const out = Buffer.alloc(image.length);
  for (let at = 0; at < image.length; at += 17) {
    readIndexEntry(image, at, 5, e);
    writeIndexEntry(out, at, 5, e.keyHi, e.keyLo, e.offset, e.size);
  }
  assert.ok(out.equals(image));
  assert.ok(m.size > 60000);
});

test("truncated and bitrot index files: whole entries load, the partial one is ignored", () => {
  const whole = MemoryNeedleMap.fromIndex(readFileSync(fixture("idx--test_files--simple_index.idx")), 4, 3);
  const truncated = readFileSync(fixture("idx--test_files--simple_index_truncated.idx"));
  assert.notEqual(truncated.length % 16, 0);
  const m = MemoryNeedleMap.fromIndex(truncated, 4, 3);
  assert.equal(m.size, Math.floor(truncated.length / 16));
  assert.ok(m.size < whole.size);
  const bitrot = readFileSync(fixture("idx--test_files--simple_index_bitrot.idx"));
  // Its flipped byte may merge two keys: whatever it says, it loads.
  assert.ok(MemoryNeedleMap.fromIndex(bitrot, 4, 3).size <= Math.floor(bitrot.length / 16));
});

test(".idx entries: key, offset in 8-byte units (5th byte last), size; tombstone -1", () => {
  assert.equal(
    hex(encodeIndexEntry(4, 0x01020304, 0x05060708, 0x0a0b0c0d, 300)),
    "01020304050607080a0b0c0d0000012c",
  );
  assert.equal(hex(encodeIndexEntry(5, 0, 9, 0x12_0a0b0c0d, -1)), "00000000000000090a0b0c0d12ffffffff");
  assert.deepEqual(
    readIndexEntry(encodeIndexEntry(5, 0, 9, 0xff_ffffffff, 7), 0, 5, {
      keyHi: 0,
      keyLo: 0,
      offset: 0,
      size: 0,
    }),
    { keyHi: 0, keyLo: 9, offset: 0xff_ffffffff, size: 7 },
  );
  assert.equal(indexEntrySize(4), 16);
  assert.equal(indexEntrySize(5), 17);
});

test("puts, overwrites and deletes keep weed's counters", () => {
  const m = new MemoryNeedleMap(4, 3);
  m.put(0, 5, 1, 100);
  m.put(0, 3, 20, 50);
  m.put(0, 5, 40, 120); // overwrite: the old 100 bytes count as deleted
  assert.equal(m.remove(0, 3), 50);
  assert.equal(m.remove(0, 3), 0, "a second delete finds nothing live");
  assert.equal(m.remove(0, 99), 0);
  assert.deepEqual(lookup(m, 0, 5), { offset: 40, size: 120 });
  assert.deepEqual(lookup(m, 0, 3), { offset: 20, size: -50 }, "a deleted entry keeps its offset");
  assert.equal(lookup(m, 0, 4), undefined);
  m.put(0, 7, 60, 0);
  assert.equal(m.remove(0, 7), 0, "an empty needle's delete counts nothing");
  assert.deepEqual(lookup(m, 0, 7), { offset: 60, size: -1 }, "it becomes a tombstone");
  assert.deepEqual(m.stats, {
    fileCount: 4,
    fileBytes: 270,
    deletedCount: 2,
    deletedBytes: 150,
    maxKeyHi: 0,
    maxKeyLo: 7,
    maxNeedleEnd: 40 * 8 + 16 + 120 + 4 + 8 + 4,
  });
});

test("keys stay ordered whatever the insert order (overflow merges), across the 32-bit halves", () => {
  const m = new MemoryNeedleMap(5, 3);
  const keys: [number, number][] = [];
  for (let i = 0; i < 20000; i++) keys.push([i % 3 === 0 ? 0xffffffff : i % 3, (i * 2654435761) >>> 0]);
  for (const [hi, lo] of keys) m.put(hi, lo, 2 ** 33 + lo, 8);
  assert.equal(m.size, keys.length);
  for (const [hi, lo] of keys) assert.equal(lookup(m, hi, lo)?.offset, 2 ** 33 + lo);
  let prev = -1n;
  m.forEach((hi, lo) => {
    const k = keyToBigInt(hi, lo);
    assert.ok(k > prev);
    prev = k;
  });
  assert.equal(m.stats.maxKeyHi, 0xffffffff);
});

test("an index in random key order loads to the same map as the same entries in order", () => {
  const n = 30000;
  const random = Buffer.alloc(n * 16);
  for (let i = 0; i < n; i++) {
    const key = ((i % 5000) * 2654435761) >>> 0; // each key 6 times: overwrites and deletes
    const deleted = i % 7 === 3;
    writeIndexEntry(random, i * 16, 4, i % 2, key, deleted ? 0 : i + 1, deleted ? -1 : (i % 100) + 1);
  }
  const a = MemoryNeedleMap.fromIndex(random, 4, 3);
  const b = new MemoryNeedleMap(4, 3);
  forEachIndexEntry(random, 4, (e) => b.apply(e));
  assert.deepEqual(a.stats, b.stats);
  const dump = (m: MemoryNeedleMap) => {
    const out: number[] = [];
    m.forEach((hi, lo, offset, size) => {
      out.push(hi, lo, offset, size);
    });
    return out;
  };
  assert.deepEqual(dump(a), dump(b));
});

test("the radix sort is stable and orders 64-bit keys", () => {
  const hi = new Uint32Array([1, 0, 0, 1, 0, 0xffffffff, 0]);
  const lo = new Uint32Array([5, 0xffffffff, 3, 5, 3, 0, 0x10000]);
  assert.deepEqual([...sortByKey(hi, lo, 7)], [2, 4, 6, 1, 0, 3, 5]);
});

test("memory stays under 24 bytes a needle", () => {
  const m = new MemoryNeedleMap(5, 3);
  for (let i = 1; i <= 200_000; i++) m.put(0, i, i, 100);
  assert.ok(m.memoryBytes / m.size < 24, `${m.memoryBytes / m.size} bytes/needle`);
});
