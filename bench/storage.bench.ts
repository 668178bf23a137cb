// npm run bench:storage — the storage engine alone (no HTTP): memory needle map bytes per needle
// at 1 and 10 million needles, time to load a 1-million-entry .idx into a volume, and append and
// read rates of 1 KB needles. Prints a Markdown table for BENCHMARKS.md.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeIndexEntry } from "../src/storage/index/idx.js";
import { MemoryNeedleMap } from "../src/storage/index/needle-map.js";
import { newNeedle } from "../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../src/storage/needle/ttl.js";
import { parseReplicaPlacement } from "../src/storage/volume/replica-placement.js";
import { createVolume, loadVolume } from "../src/storage/volume/volume-load.js";

const rows: [string, string][] = [];
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function mapBytes(count: number): void {
  gc();
  const before = process.memoryUsage();
  const m = new MemoryNeedleMap(4, 3);
  const start = process.hrtime.bigint();
  for (let i = 1; i <= count; i++) m.put(0, i, i, 1024);
  const took = seconds(start);
  gc();
  const after = process.memoryUsage();
  const heapAndBuffers = after.rss - before.rss;
  rows.push([
    `memory map, ${count.toLocaleString("en")} needles: bytes per needle`,
    (m.memoryBytes / count).toFixed(1),
  ]);
  rows.push([
    `memory map, ${count.toLocaleString("en")} needles: process RSS growth per needle`,
    (heapAndBuffers / count).toFixed(1),
  ]);
  rows.push([
    `memory map, ${count.toLocaleString("en")} needles: inserts per second`,
    Math.round(count / took).toLocaleString("en"),
  ]);
}

function loadIndex(count: number): void {
  const dir = mkdtempSync(join(tmpdir(), "wv-bench-"));
  try {
    const loc = { dir, idxDir: dir, collection: "", id: 1 };
    createVolume(loc, { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width: 4 }).close();
    // A synthetic index: entries point past the .dat end, so integrity checks are skipped cheaply
    // by loading read-only; we measure the map build, which dominates start-up.
    const entries = Buffer.alloc(count * 16);
    for (let i = 0; i < count; i++) encodeIndexEntry(4, 0, i + 1, i + 1, 1024).copy(entries, i * 16);
    writeFileSync(join(dir, "1.idx"), entries);
    const start = process.hrtime.bigint();
    const v = loadVolume(loc, { defaultWidth: 4 });
    const took = seconds(start);
    rows.push([`load a ${count.toLocaleString("en")}-entry .idx (seconds)`, took.toFixed(3)]);
    v.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function appendAndRead(count: number): void {
  const dir = mkdtempSync(join(tmpdir(), "wv-bench-"));
  try {
    const v = createVolume(
      { dir, idxDir: dir, collection: "", id: 2 },
      {
        replicaPlacement: parseReplicaPlacement("000"),
        ttl: EMPTY_TTL,
        width: 4,
      },
    );
    const data = Buffer.alloc(1024, 7);
    let start = process.hrtime.bigint();
    for (let i = 1; i <= count; i++) v.write(newNeedle({ keyLo: i, cookie: i, data }));
    rows.push(["append 1 KB needles (per second)", Math.round(count / seconds(start)).toLocaleString("en")]);
    start = process.hrtime.bigint();
    for (let i = 1; i <= count; i++) {
      const k = 1 + ((i * 2654435761) % count);
      v.read(0, k);
    }
    rows.push([
      "read 1 KB needles, random order (per second)",
      Math.round(count / seconds(start)).toLocaleString("en"),
    ]);
    v.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

mapBytes(1_000_000);
mapBytes(10_000_000);
loadIndex(1_000_000);
appendAndRead(200_000);

console.log(`| measure | value |\n| --- | --- |`);
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
