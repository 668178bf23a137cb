// Needle map benchmark (not a test): bytes per needle at 1M and 10M needles, and the time to load
// a 1M-entry .idx image. Run: node dist/test/storage/needle-map.bench.js

import { writeIndexEntry } from "../../src/storage/index/idx.js";
import { MemoryNeedleMap } from "../../src/storage/index/needle-map.js";
import { indexEntrySize, type OffsetWidth } from "../../src/storage/types.js";

function indexImage(entries: number, width: OffsetWidth, shuffled: boolean): Buffer {
  const size = indexEntrySize(width);
  const image = Buffer.alloc(entries * size);
  let offset = 1;
  for (let i = 0; i < entries; i++) {
    // Keys from a master sequence: ascending, with a delete every 20th entry.
    const key = shuffled ? (i * 2654435761) % 0xffffffff : i + 1;
    const deleted = i % 20 === 19;
    writeIndexEntry(image, i * size, width, 0, key >>> 0, deleted ? 0 : offset, deleted ? -1 : 1000);
    offset += 128;
  }
  return image;
}

function time<T>(label: string, fn: () => T): T {
  const start = process.hrtime.bigint();
  const result = fn();
  console.log(`${label}: ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(1)} ms`);
  return result;
}

for (const width of [4, 5] as OffsetWidth[]) {
  for (const n of [1_000_000, 10_000_000]) {
    const image = indexImage(n, width, false);
    const map = time(`${width}-byte offsets, load ${n.toLocaleString()} ascending entries`, () =>
      MemoryNeedleMap.fromIndex(image, width, 3),
    );
    console.log(`  ${(map.memoryBytes / map.size).toFixed(2)} bytes/needle (${map.size} entries)`);
    const probe = { offset: 0, size: 0 };
    time(`  ${n.toLocaleString()} lookups`, () => {
      for (let i = 0; i < n; i++) map.get(0, (i * 7919) % n, probe);
    });
  }
}
const shuffled = indexImage(1_000_000, 4, true);
time("4-byte offsets, load 1,000,000 entries in random key order", () =>
  MemoryNeedleMap.fromIndex(shuffled, 4, 3),
);
const map = new MemoryNeedleMap(4, 3);
time("100,000 random-order puts on top of an empty map", () => {
  for (let i = 0; i < 100_000; i++) map.put(0, (i * 2654435761) >>> 0, i + 1, 100);
});
