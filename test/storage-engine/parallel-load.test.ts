// Start-up loading with needle maps built in worker threads: many volumes over two directories
// (one with -dir.idx), 4- and 5-byte offsets, an index far out of key order, a broken volume, a
// duplicate id, a copy cut short. Every good volume loads once with the counters and the needles
// a one-thread load gives, and takes writes afterwards.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { newNeedle } from "../../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../../src/storage/needle/ttl.js";
import { MapBuildError, MapBuilders, MapBuildersBroken } from "../../src/storage/store/map-builders.js";
import { HEAD_START_MIN_IDX_BYTES, MapHeadStart } from "../../src/storage/store/map-head-start.js";
import { Store } from "../../src/storage/store/store.js";
import type { OffsetWidth } from "../../src/storage/types.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import {
  createVolume,
  loadVolume,
  memoryNeedleMap,
  type NeedleMapFactory,
} from "../../src/storage/volume/volume-load.js";
import { scratchDir } from "../storage/support.js";

interface Expected {
  dir: string;
  collection: string;
  fileCount: number;
  deletedCount: number;
  /** key -> content, live needles only. */
  live: Map<number, string>;
  deleted: number[];
}

const text = (id: number, key: number) => `volume ${id} needle ${key} ${"x".repeat(key % 13)}`;

/** A volume with `count` needles (keys ascending, or descending), every fifth one deleted. */
function makeVolume(
  dir: string,
  idxDir: string,
  id: number,
  options: { collection?: string; count: number; width?: OffsetWidth; descending?: boolean },
): Expected {
  const collection = options.collection ?? "";
  const v = createVolume(
    { dir, idxDir, collection, id },
    { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width: options.width ?? 4 },
  );
  const live = new Map<number, string>();
  const deleted: number[] = [];
  for (let i = 1; i <= options.count; i++) {
    const key = options.descending ? options.count + 1 - i : i * 3;
    v.write(newNeedle({ keyLo: key, cookie: key, data: Buffer.from(text(id, key)) }));
    live.set(key, text(id, key));
  }
  for (const key of [...live.keys()].filter((_, i) => i % 5 === 4)) {
    v.delete(0, key, key);
    live.delete(key);
    deleted.push(key);
  }
  const expected = { dir, collection, fileCount: v.fileCount, deletedCount: v.deletedCount, live, deleted };
  v.close();
  return expected;
}

function newStore(
  dirs: { dir: string; idx?: string }[],
  loadThreads: number | undefined,
  log: { info: string[]; warn: string[] },
  needleMap?: NeedleMapFactory,
): Store {
  return new Store({
    locations: dirs.map((d) => ({
      directory: d.dir,
      idxDirectory: d.idx ?? "",
      maxVolumeCount: 200,
      minFreeSpace: { kind: "percent", percent: 0 },
      diskType: "",
      tags: [],
    })),
    defaultWidth: 4,
    log: { info: (m) => log.info.push(m), warn: (m) => log.warn.push(m) },
    ...(loadThreads === undefined ? {} : { loadThreads }),
    ...(needleMap ? { needleMap } : {}),
  });
}

function checkLoaded(store: Store, expected: Map<number, Expected>): void {
  for (const [id, e] of expected) {
    const found = store.locate(id);
    assert.ok(found, `volume ${id} loaded`);
    assert.equal(found.location.directory, e.dir, `volume ${id} from ${e.dir}`);
    const v = found.volume;
    assert.equal(v.collection, e.collection);
    assert.equal(v.fileCount, e.fileCount, `volume ${id} file count`);
    assert.equal(v.deletedCount, e.deletedCount, `volume ${id} deleted count`);
    assert.equal(v.map.size, e.live.size + e.deleted.length, `volume ${id} entries`);
    for (const [key, content] of e.live) assert.equal(v.read(0, key).data.toString(), content);
    for (const key of e.deleted) assert.throws(() => v.read(0, key), /deleted/);
  }
}

test("volumes of two directories load in parallel; broken, duplicate and unfinished ones are handled", async () => {
  const root = scratchDir("parallel-load-");
  const [a, b, idx] = ["a", "b", "idx"].map((n) => join(root, n)) as [string, string, string];
  for (const d of [a, b, idx]) mkdirSync(d);
  const expected = new Map<number, Expected>();
  // 120 volumes: a (its .idx files in -dir.idx) holds the odd ids, b the even ones.
  for (let id = 1; id <= 120; id++) {
    const inA = id % 2 === 1;
    expected.set(
      id,
      makeVolume(inA ? a : b, inA ? idx : b, id, {
        collection: id % 3 === 0 ? "pics" : "",
        count: 5 + ((id * 7) % 40),
        width: id % 10 === 0 ? 5 : 4,
      }),
    );
  }
  // An index far out of key order (built through a sort), 5-byte offsets.
  expected.set(121, makeVolume(b, b, 121, { count: 5000, descending: true, width: 5 }));
  // Volume 7 again in b: a's copy wins.
  makeVolume(b, b, 7, { count: 3 });
  // Volume 200 broken in a but good in b: b's copy loads.
  writeFileSync(join(a, "200.dat"), "garbage");
  expected.set(200, makeVolume(b, b, 200, { count: 9 }));
  // A broken volume with no other copy.
  writeFileSync(join(b, "300.dat"), "garbage");
  // A copy cut short: swept, not loaded.
  makeVolume(b, b, 400, { count: 4 });
  writeFileSync(join(b, "400.note"), "copying from peer:8080");

  const log = { info: [] as string[], warn: [] as string[] };
  const store = newStore([{ dir: a, idx }, { dir: b }], 3, log);
  await store.loadExistingVolumes();
  try {
    checkLoaded(store, expected);
    assert.equal(store.findVolume(300), undefined);
    assert.equal(store.findVolume(400), undefined);
    assert.equal(existsSync(join(b, "400.dat")), false, "the unfinished copy is swept");
    assert.equal([...store.volumes()].length, expected.size);

    const warnings = log.warn.join("\n");
    assert.match(warnings, /volume 7 in .*\/b is already loaded from .*\/a; skipped/);
    assert.match(warnings, /load volume 200 in .*\/a: .*not initialized/);
    assert.match(warnings, /load volume 300 in .*\/b: .*not initialized/);
    assert.match(warnings, /volume 400 was not completed: copying from peer:8080/);
    assert.doesNotMatch(warnings, /worker failed/);

    const info = log.info.join("\n");
    assert.match(info, /loading 123 volumes from 2 directories with 3 needle map threads/);
    assert.match(info, /loaded \d+\/123 volumes \(\d+%\)/, "progress lines for a store this large");
    assert.match(info, /loaded 122 volumes, 2 failed from 2 directories in \d+ ms/);

    // Each directory's volumes in id order, whatever order they finished in.
    for (const location of store.locations) {
      const ids = [...location.volumes.keys()];
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => x - y),
      );
    }

    // Maps built in a worker take writes: appended keys, a key that sorts first, overwrites.
    for (const id of [1, 10, 121]) {
      const v = store.findVolume(id)!;
      const e = expected.get(id)!;
      for (let i = 0; i < 2000; i++) {
        // Keys alternately high and low: most sort before the newest key (the map's overflow).
        const key = i % 2 === 0 ? 1_000_000 + i : 2_000_000 - i;
        v.write(newNeedle({ keyLo: key, cookie: 1, data: Buffer.from(`new ${key}`) }));
        e.live.set(key, `new ${key}`);
      }
      const firstLive = [...e.live.keys()][0]!;
      v.write(newNeedle({ keyLo: firstLive, cookie: firstLive, data: Buffer.from("again") }));
      e.live.set(firstLive, "again");
      for (const [key, content] of e.live) assert.equal(v.read(0, key).data.toString(), content);
    }
  } finally {
    store.close();
  }

  // The same files (and the writes above) loaded on the main thread.
  const again = { info: [] as string[], warn: [] as string[] };
  const sequential = newStore([{ dir: a, idx }, { dir: b }], 0, again);
  await sequential.loadExistingVolumes();
  try {
    assert.match(again.info.join("\n"), /on the main thread/);
    assert.deepEqual(
      [...sequential.volumes()].map((e) => e.volume.id).sort((x, y) => x - y),
      [...expected.keys()].sort((x, y) => x - y),
    );
    for (const id of [2, 3, 120, 121, 200]) {
      const e = expected.get(id)!;
      const v = sequential.findVolume(id)!;
      for (const [key, content] of e.live) assert.equal(v.read(0, key).data.toString(), content);
    }
  } finally {
    sequential.close();
  }
});

test("a needle map other than memory (-index=leveldb*) is built on the main thread", async () => {
  const root = scratchDir("parallel-load-");
  const expected = new Map<number, Expected>();
  for (let id = 1; id <= 6; id++) expected.set(id, makeVolume(root, root, id, { count: 20 }));
  let built = 0;
  const factory: NeedleMapFactory = (args) => {
    built++;
    return memoryNeedleMap(args);
  };
  const log = { info: [] as string[], warn: [] as string[] };
  const store = newStore([{ dir: root }], 4, log, factory);
  await store.loadExistingVolumes();
  try {
    assert.equal(built, 6, "the factory built every map");
    assert.match(log.info.join("\n"), /loading 6 volumes from 1 directories on the main thread/);
    checkLoaded(store, expected);
  } finally {
    store.close();
  }
});

test("small stores load on the main thread unless threads are asked for", async () => {
  const root = scratchDir("parallel-load-");
  for (let id = 1; id <= 3; id++) makeVolume(root, root, id, { count: 10 });
  const log = { info: [] as string[], warn: [] as string[] };
  const store = newStore([{ dir: root }], undefined, log);
  await store.loadExistingVolumes();
  assert.match(log.info.join("\n"), /on the main thread/);
  assert.equal([...store.volumes()].length, 3);
  store.close();
});

test("the map builder pool: a bad .idx fails its job alone; a closed pool refuses work", async () => {
  const root = scratchDir("parallel-load-");
  const e = makeVolume(root, root, 1, { count: 50 });
  const pool = new MapBuilders(2);
  try {
    const [good, missing] = await Promise.allSettled([
      pool.build(join(root, "1.idx"), 4, 3),
      pool.build(join(root, "nothing.idx"), 4, 3),
    ]);
    assert.equal(good.status, "fulfilled");
    if (good.status === "fulfilled") {
      assert.equal(good.value.map.stats.fileCount, e.fileCount);
      assert.equal(good.value.idxLength, (e.fileCount + e.deletedCount) * 16);
    }
    assert.equal(missing.status, "rejected");
    if (missing.status === "rejected") assert.ok(missing.reason instanceof MapBuildError);
    const again = await pool.build(join(root, "1.idx"), 4, 3);
    assert.equal(again.map.size, e.live.size + e.deleted.length);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.build(join(root, "1.idx"), 4, 3), MapBuildersBroken);
});

/** Needles enough for an .idx the head start takes on (every fifth is deleted: one more entry each). */
const HEAD_START_NEEDLES = Math.ceil(HEAD_START_MIN_IDX_BYTES / 16);

test("a head start builds the large volumes' maps before the store opens them, and the store uses them", async () => {
  const root = scratchDir("head-start-");
  const idx = scratchDir("head-start-idx-");
  const expected = new Map<number, Expected>([
    [1, makeVolume(root, idx, 1, { count: HEAD_START_NEEDLES, descending: true })],
    [2, makeVolume(root, idx, 2, { count: 20 })],
    [3, makeVolume(root, idx, 3, { count: HEAD_START_NEEDLES, width: 5, collection: "pics" })],
  ]);
  const head = MapHeadStart.start([{ directory: root, idxDirectory: idx }], 4, 2);
  assert.ok(head, "two large volumes: a head start");
  await head.settled();
  const log = { info: [] as string[], warn: [] as string[] };
  const store = newStore([{ dir: root, idx }], undefined, log);
  await store.loadExistingVolumes(head);
  try {
    assert.equal(head.taken, 2, "both large maps used");
    assert.equal(head.discarded, 0);
    assert.match(log.info.join("\n"), /needle maps built while the server started: 2 used, 0 built again/);
    checkLoaded(store, expected);
    store.locate(1)!.volume.write(newNeedle({ keyLo: 999_999_999, cookie: 1, data: Buffer.from("after") }));
    assert.equal(store.locate(1)!.volume.read(0, 999_999_999).data.toString(), "after");
  } finally {
    store.close();
  }
});

test("a map built early is not used when its .idx changed before the store opened the volume", async () => {
  const root = scratchDir("head-start-");
  const e = makeVolume(root, root, 1, { count: HEAD_START_NEEDLES });
  const head = MapHeadStart.start([{ directory: root, idxDirectory: root }], 4, 1);
  assert.ok(head);
  await head.settled();
  // Another needle lands after the worker read the .idx.
  const v = loadVolume({ dir: root, idxDir: root, collection: "", id: 1 }, { defaultWidth: 4 });
  v.write(newNeedle({ keyLo: 7_000_001, cookie: 5, data: Buffer.from("late") }));
  v.close();
  e.live.set(7_000_001, "late");
  e.fileCount++;
  const log = { info: [] as string[], warn: [] as string[] };
  const store = newStore([{ dir: root }], undefined, log);
  await store.loadExistingVolumes(head);
  try {
    assert.equal(head.taken, 0);
    assert.equal(head.discarded, 1, "the early map was dropped");
    checkLoaded(store, new Map([[1, e]]));
  } finally {
    store.close();
  }
});

test("a head start takes one volume a thread, the largest; the store loads the others itself", async () => {
  const root = scratchDir("head-start-");
  const expected = new Map<number, Expected>([
    [1, makeVolume(root, root, 1, { count: HEAD_START_NEEDLES })],
    [2, makeVolume(root, root, 2, { count: HEAD_START_NEEDLES * 2 })],
  ]);
  const head = MapHeadStart.start([{ directory: root, idxDirectory: root }], 4, 1);
  assert.ok(head);
  const log = { info: [] as string[], warn: [] as string[] };
  const store = newStore([{ dir: root }], 0, log);
  await store.loadExistingVolumes(head);
  try {
    assert.equal(head.taken, 1, "only the largest was built early");
    assert.match(log.info.join("\n"), /2 volumes from 1 directories in/);
    checkLoaded(store, expected);
  } finally {
    store.close();
  }
});

test("no head start for small volumes or without a spare thread", () => {
  const root = scratchDir("head-start-");
  makeVolume(root, root, 1, { count: 100 });
  assert.equal(MapHeadStart.start([{ directory: root, idxDirectory: root }], 4, 1), undefined);
  assert.equal(
    MapHeadStart.start([{ directory: join(root, "missing"), idxDirectory: root }], 4, 1),
    undefined,
  );
  assert.equal(MapHeadStart.start([{ directory: root, idxDirectory: root }], 4, 0), undefined);
});
