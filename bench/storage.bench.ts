// npm run bench:storage — the storage engine alone (no HTTP): memory needle map bytes per needle
// at 1 and 10 million needles, time to load a 1-million-entry .idx into a volume, append and read
// rates of 1 KB needles, and start-up of a store of 50 volumes of 200,000 needles loaded on the
// main thread and with needle maps built in worker threads. Prints a Markdown table for
// BENCHMARKS.md.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { encodeIndexEntry } from "../src/storage/index/idx.js";
import { MemoryNeedleMap } from "../src/storage/index/needle-map.js";
import { newNeedle } from "../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../src/storage/needle/ttl.js";
import { Store } from "../src/storage/store/store.js";
import { defaultLoadThreads } from "../src/storage/store/volume-loader.js";
import { parseReplicaPlacement } from "../src/storage/volume/replica-placement.js";
import { createVolume, loadVolume } from "../src/storage/volume/volume-load.js";

const rows: [string, string][] = [];
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** A full collection, and time for V8 to hand freed buffers' memory back (it does so on a later task). */
async function settle(): Promise<void> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
}

async function mapBytes(count: number): Promise<void> {
  await settle();
  const before = process.memoryUsage();
  const m = new MemoryNeedleMap(4, 3);
  const start = process.hrtime.bigint();
  for (let i = 1; i <= count; i++) m.put(0, i, i, 1024);
  const took = seconds(start);
  await settle();
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

/**
 * A store of `volumes` volumes of `needles` small needles each (real .dat files: the integrity
 * check runs as on any start-up), loaded `rounds` times each way; the best round of each counts.
 */
async function storeStartup(volumes: number, needles: number, rounds: number): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "wv-bench-"));
  try {
    // Two data directories, as a server with two disks; one volume written, the others copies.
    const dirs = [join(root, "a"), join(root, "b")];
    for (const d of dirs) mkdirSync(d);
    const first = createVolume(
      { dir: dirs[0]!, idxDir: dirs[0]!, collection: "", id: 1 },
      { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width: 4 },
    );
    const data = Buffer.alloc(16, 7);
    for (let i = 1; i <= needles; i++) first.write(newNeedle({ keyLo: i, cookie: i, data }));
    first.close();
    for (let id = 2; id <= volumes; id++) {
      const dir = dirs[(id - 1) % dirs.length]!;
      for (const ext of [".dat", ".idx", ".vif"])
        copyFileSync(join(dirs[0]!, `1${ext}`), join(dir, `${id}${ext}`));
    }
    const load = async (threads: number): Promise<number> => {
      const store = new Store({
        locations: dirs.map((directory) => ({
          directory,
          idxDirectory: "",
          maxVolumeCount: volumes,
          minFreeSpace: { kind: "percent", percent: 0 },
          diskType: "",
          tags: [],
        })),
        defaultWidth: 4,
        loadThreads: threads,
        log: { info: () => undefined, warn: (m) => console.error(m) },
      });
      gc();
      const start = process.hrtime.bigint();
      await store.loadExistingVolumes();
      const took = seconds(start);
      let count = 0;
      for (const { volume } of store.volumes()) count += volume.fileCount;
      if (count !== volumes * needles) throw new Error(`loaded ${count} needles`);
      store.close();
      return took;
    };
    const threads = defaultLoadThreads();
    const ways: [string, number][] = [
      ["main thread", 0],
      [`${threads} worker threads (default)`, threads],
      [`${2 * threads} worker threads`, 2 * threads],
    ];
    const best = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      for (const [name, n] of ways) best.set(name, Math.min(best.get(name) ?? Infinity, await load(n)));
    }
    const label = `start-up, ${volumes} volumes x ${needles.toLocaleString("en")} needles`;
    const sequential = best.get("main thread")!;
    for (const [name] of ways) {
      const took = best.get(name)!;
      const gain = name === "main thread" ? "" : ` (${(sequential / took).toFixed(2)}x)`;
      rows.push([`${label}, ${name} (seconds)`, `${took.toFixed(2)}${gain}`]);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

console.error(`${availableParallelism()} CPUs`);
await mapBytes(1_000_000);
await mapBytes(10_000_000);
loadIndex(1_000_000);
appendAndRead(200_000);
await storeStartup(50, 200_000, 3);

console.log(`| measure | value |\n| --- | --- |`);
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
