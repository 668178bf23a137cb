import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ClassicLevel } from "classic-level";
import { encodeIndexEntry, forEachIndexEntry } from "../../src/storage/index/idx.js";
import {
  decodeWatermark,
  encodeKey,
  encodeValue,
  encodeWatermark,
  STATE_KEY,
  WATERMARK_KEY,
} from "../../src/storage/index/leveldb-format.js";
import { type LevelDbKind, LevelDbNeedleMap, leveldbNeedleMap } from "../../src/storage/index/leveldb-map.js";
import { MemoryNeedleMap } from "../../src/storage/index/needle-map.js";
import type { NeedleMapper } from "../../src/storage/index/needle-mapper.js";
import { FLAG_HAS_NAME, newNeedle } from "../../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../../src/storage/needle/ttl.js";
import { type OffsetWidth, TOMBSTONE_FILE_SIZE } from "../../src/storage/types.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import { createVolume, loadVolume } from "../../src/storage/volume/volume-load.js";

const FIXTURES = "/work/shared/fixtures/seaweedfs-go";
const scratch = mkdtempSync(join(tmpdir(), "wv-ldb-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Db = ClassicLevel<Buffer, Buffer>;
const openRaw = async (dir: string): Promise<Db> => {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  return db;
};

const freshDir = () => join(mkdtempSync(join(scratch, "v-")), "1.ldb");

function load(directory: string, image: Buffer, width: OffsetWidth, kind: LevelDbKind = "leveldb") {
  return LevelDbNeedleMap.load({ directory, image, width, version: 3, kind });
}

/** A deterministic pseudo-random sequence (xorshift). */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** Keys that straddle the 32-bit halves, so byte order must be numeric order. */
const HIS = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff];
const LOS = [0, 1, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** An .idx being written, applied to maps as a volume does (one map call per entry). */
class Log {
  rows: Buffer[] = [];
  private next = 1;
  constructor(
    readonly width: OffsetWidth,
    readonly maps: NeedleMapper[] = [],
  ) {}
  put(hi: number, lo: number, size: number): void {
    const offset = this.width === 5 ? 2 ** 32 + this.next : this.next;
    this.next += 1 + Math.ceil(size / 8);
    this.rows.push(encodeIndexEntry(this.width, hi, lo, offset, size));
    for (const m of this.maps) m.put(hi, lo, offset, size);
  }
  remove(hi: number, lo: number): void {
    this.rows.push(encodeIndexEntry(this.width, hi, lo, this.next++, TOMBSTONE_FILE_SIZE));
    for (const m of this.maps) m.remove(hi, lo);
  }
  image(): Buffer {
    return Buffer.concat(this.rows);
  }
  /** Random puts (new keys and overwrites, some of size 0) and deletes (live, deleted and unknown keys). */
  randomOps(n: number, seed: number, onlyKnownDeletes = false): void {
    const r = random(seed);
    const known: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const pick = r(10);
      if (pick < 6 || known.length === 0) {
        const key: [number, number] =
          known.length > 0 && r(3) === 0
            ? known[r(known.length)]!
            : [HIS[r(HIS.length)]!, r(4) ? r(5000) : LOS[r(8)]!];
        known.push(key);
        this.put(key[0], key[1], r(8) === 0 ? 0 : 1 + r(5000));
      } else if (pick < 9 || onlyKnownDeletes) {
        const [hi, lo] = known[r(known.length)]!;
        this.remove(hi, lo);
      } else {
        this.remove(HIS[r(HIS.length)]!, 1_000_000 + r(1000));
      }
    }
  }
}

function entries(m: NeedleMapper): [number, number, number, number][] {
  const all: [number, number, number, number][] = [];
  m.forEach((hi, lo, offset, size) => {
    all.push([hi, lo, offset, size]);
  });
  return all;
}

function assertSameMap(actual: NeedleMapper, expected: MemoryNeedleMap, what: string): void {
  assert.deepEqual({ ...actual.stats }, { ...expected.stats }, `${what}: counters`);
  assert.equal(actual.size, expected.size, `${what}: size`);
  const got = entries(actual);
  assert.deepEqual(got, entries(expected), `${what}: entries in key order`);
  const out = { offset: 0, size: 0 };
  const want = { offset: 0, size: 0 };
  for (const [hi, lo] of got.slice(0, 200)) {
    assert.equal(actual.get(hi, lo, out), expected.get(hi, lo, want));
    assert.deepEqual(out, want, `${what}: get(${hi}, ${lo})`);
  }
  assert.equal(actual.get(0x12345, 0x6789, out), false);
}

const tick = () => new Promise((r) => setTimeout(r, 20));

for (const width of [4, 5] as OffsetWidth[]) {
  test(`random puts, overwrites and deletes match the memory map (${width}-byte offsets)`, async () => {
    const dir = freshDir();
    const ldb = load(dir, Buffer.alloc(0), width);
    const mem = new MemoryNeedleMap(width, 3);
    const log = new Log(width, [ldb, mem]);
    log.randomOps(4000, 7 + width, true);
    assertSameMap(ldb, mem, "before LevelDB caught up (overlay)");
    await tick();
    assertSameMap(ldb, mem, "after LevelDB wrote the batches");
    log.randomOps(3000, 99 + width);
    assertSameMap(ldb, MemoryNeedleMap.fromIndex(log.image(), width, 3), "against the .idx");
    await ldb.closeAsync();

    const again = load(dir, log.image(), width);
    assert.equal(again.loadReport.mode, "current");
    assert.equal(again.loadReport.replayed, 0, "nothing replayed when the database is current");
    assertSameMap(again, MemoryNeedleMap.fromIndex(log.image(), width, 3), "reopened");
    await again.closeAsync();
  });
}

test("reopening applies only the .idx entries after the state record", async () => {
  const dir = freshDir();
  const log = new Log(4);
  log.randomOps(25_000, 3);
  const first = load(dir, log.image(), 4);
  assert.equal(first.loadReport.mode, "rebuild");
  assert.equal(first.loadReport.replayed, 25_000);
  log.maps.push(first);
  log.randomOps(500, 4); // written through the map
  await first.closeAsync();
  log.maps.length = 0;
  log.randomOps(321, 5); // in the .idx only: a crash before LevelDB wrote them, say
  const second = load(dir, log.image(), 4);
  assert.equal(second.loadReport.mode, "tail");
  assert.equal(second.loadReport.replayed, 321);
  assertSameMap(second, MemoryNeedleMap.fromIndex(log.image(), 4, 3), "after the tail");
  assert.equal(second.indexRows, 25_821);
  await second.closeAsync();

  const db = await openRaw(dir);
  const mark = decodeWatermark(await db.get(WATERMARK_KEY));
  await db.close();
  assert.ok(mark !== undefined && mark <= 25_821 && mark > 25_000, `watermark ${mark}`);
});

test("deleted entries keep their offset with the size negated, a tombstone when the size was 0", async () => {
  const dir = freshDir();
  const ldb = load(dir, Buffer.alloc(0), 4);
  const mem = new MemoryNeedleMap(4, 3);
  const log = new Log(4, [ldb, mem]);
  log.put(0, 1, 100);
  log.put(0, 2, 0);
  log.put(0, 3, 50);
  log.remove(0, 1);
  log.remove(0, 2);
  log.remove(0, 1);
  log.put(0, 3, 70);
  log.remove(0, 9);
  const out = { offset: 0, size: 0 };
  assert.ok(ldb.get(0, 1, out));
  assert.deepEqual(out, { offset: 1, size: -100 });
  assert.ok(ldb.get(0, 2, out));
  assert.equal(out.size, TOMBSTONE_FILE_SIZE);
  // The memory map notes the unknown key 9 only when it loads the .idx; we note it at once, so a
  // restart computes the same.
  assertSameMap(ldb, MemoryNeedleMap.fromIndex(log.image(), 4, 3), "runtime");
  assert.equal(mem.stats.maxKeyLo, 3);
  await ldb.closeAsync();
  const again = load(dir, log.image(), 4);
  assert.ok(again.get(0, 1, out));
  assert.deepEqual(out, { offset: 1, size: -100 }, "after reopening");
  assertSameMap(again, MemoryNeedleMap.fromIndex(log.image(), 4, 3), "reopened");
  await again.closeAsync();
});

test("keys sort numerically across the 32-bit halves", async () => {
  const dir = freshDir();
  const ldb = load(dir, Buffer.alloc(0), 4);
  const keys: [number, number][] = [];
  for (const hi of HIS) for (const lo of LOS) keys.push([hi, lo]);
  const r = random(11);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = r(i + 1);
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  for (const [i, [hi, lo]] of keys.entries()) ldb.put(hi, lo, i + 1, 10);
  const check = (what: string) => {
    const seen = entries(ldb).map(([hi, lo]) => [hi, lo]);
    const sorted = [...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.deepEqual(seen, sorted, what);
  };
  check("from the overlay");
  await tick();
  check("from LevelDB");
  assert.deepEqual([ldb.stats.maxKeyHi, ldb.stats.maxKeyLo], [0xffffffff, 0xffffffff]);
  await ldb.closeAsync();
});

test("weed's fixtures, 5-byte offsets included, load to the memory map's counters", async () => {
  for (const [file, width] of [
    ["testdata-187.idx", 5],
    ["idx--test_files--deleted_files.idx", 4],
    ["test_files--healthy_volume.idx", 4],
  ] as const) {
    const image = readFileSync(join(FIXTURES, file));
    const dir = freshDir();
    const ldb = load(dir, image, width, "leveldbMedium");
    const mem = MemoryNeedleMap.fromIndex(image, width, 3);
    assertSameMap(ldb, mem, file);
    await ldb.closeAsync();
    const again = load(dir, image, width, "leveldbMedium");
    assert.equal(again.loadReport.mode, "current", file);
    assertSameMap(again, mem, `${file} reopened`);
    await again.closeAsync();
  }
});

test("records use weed's layout: 8-byte big-endian id, offset then size", async () => {
  const dir = freshDir();
  const log = new Log(5);
  log.put(0x01020304, 0x05060708, 77);
  log.put(0, 9, 5);
  log.remove(0, 9);
  const ldb = load(dir, log.image(), 5);
  await ldb.closeAsync();
  const db = await openRaw(dir);
  // offset 2^32 + 1: low four bytes big-endian, then the fifth byte; size 77.
  assert.deepEqual(
    await db.get(Buffer.from("0102030405060708", "hex")),
    Buffer.from("00000001010000004d", "hex"),
  );
  assert.deepEqual(await db.get(encodeKey(0, 9)), encodeValue(5, 2 ** 32 + 12, -5));
  assert.deepEqual(await db.get(WATERMARK_KEY), encodeWatermark(3));
  await db.close();
});

/** A database as weed would leave it: deletions removed, watermark a multiple of 10000. */
async function weedDatabase(
  dir: string,
  image: Buffer,
  width: OffsetWidth,
  applied: number,
  watermark: number,
) {
  const db = await openRaw(dir);
  const batch = db.batch(); // in order, as weed's one-by-one writes
  let n = 0;
  forEachIndexEntry(image, width, (e) => {
    if (n++ >= applied) return;
    if (e.offset !== 0 && e.size >= 0)
      batch.put(encodeKey(e.keyHi, e.keyLo), encodeValue(width, e.offset, e.size));
    else batch.del(encodeKey(e.keyHi, e.keyLo));
  });
  batch.put(WATERMARK_KEY, encodeWatermark(watermark));
  await batch.write();
  await db.close();
}

test("a database weed kept is adopted from its watermark, with exact counters", async () => {
  const log = new Log(4);
  log.randomOps(23_456, 21);
  const image = log.image();
  const dir = freshDir();
  await weedDatabase(dir, image, 4, 23_000, 20_000);
  const ldb = load(dir, image, 4);
  assert.equal(ldb.loadReport.mode, "adopt");
  assert.equal(ldb.loadReport.replayed, 3_456);
  const mem = MemoryNeedleMap.fromIndex(image, 4, 3);
  assert.deepEqual({ ...ldb.stats }, { ...mem.stats });
  const live = (m: NeedleMapper) => entries(m).filter(([, , , size]) => size >= 0);
  assert.deepEqual(live(ldb), live(mem), "live entries (weed drops deleted ones)");
  await ldb.closeAsync();
  const again = load(dir, image, 4);
  assert.equal(again.loadReport.mode, "current");
  await again.closeAsync();
});

test("weed running over our database is noticed (watermark moved) and adopted", async () => {
  const log = new Log(4);
  log.randomOps(12_000, 31);
  const dir = freshDir();
  const ours = load(dir, log.image(), 4);
  await ours.closeAsync();
  // weed opens it (watermark rounded down to 10000) and applies a few writes of its own.
  log.randomOps(150, 32);
  const image = log.image();
  const db = await openRaw(dir);
  const batch = db.batch().put(WATERMARK_KEY, encodeWatermark(10_000));
  forEachIndexEntry(image.subarray(12_000 * 16), 4, (e) => {
    if (e.offset !== 0 && e.size >= 0)
      batch.put(encodeKey(e.keyHi, e.keyLo), encodeValue(4, e.offset, e.size));
  });
  await batch.write();
  await db.close();
  const back = load(dir, image, 4);
  assert.equal(back.loadReport.mode, "adopt");
  assert.deepEqual({ ...back.stats }, { ...MemoryNeedleMap.fromIndex(image, 4, 3).stats });
  await back.closeAsync();
});

test("weed writing without moving the watermark (-index.leveldbTimeout) is noticed too", async () => {
  const log = new Log(4);
  log.randomOps(5_000, 35);
  const dir = freshDir();
  await (await load(dir, log.image(), 4)).closeAsync();
  log.randomOps(40, 36);
  const image = log.image();
  const db = await openRaw(dir);
  const batch = db.batch();
  forEachIndexEntry(image.subarray(5_000 * 16), 4, (e) => {
    if (e.offset !== 0 && e.size >= 0)
      batch.put(encodeKey(e.keyHi, e.keyLo), encodeValue(4, e.offset, e.size));
  });
  await batch.write();
  await db.close();
  const back = load(dir, image, 4);
  assert.equal(back.loadReport.mode, "adopt", back.loadReport.reason);
  assert.deepEqual({ ...back.stats }, { ...MemoryNeedleMap.fromIndex(image, 4, 3).stats });
  await back.closeAsync();
});

test("a database that does not match the .idx is rebuilt", async () => {
  const log = new Log(4);
  log.randomOps(2_000, 41);
  const dir = freshDir();
  const ldb = load(dir, log.image(), 4);
  await ldb.closeAsync();

  const other = new Log(4);
  other.randomOps(3_000, 42); // a different .idx, longer than the old one (a compaction, say)
  const rebuilt = load(dir, other.image(), 4);
  assert.equal(rebuilt.loadReport.mode, "rebuild");
  assertSameMap(rebuilt, MemoryNeedleMap.fromIndex(other.image(), 4, 3), "rebuilt");
  await rebuilt.closeAsync();

  const shorter = other.image().subarray(0, 1_000 * 16);
  const cut = load(dir, shorter, 4);
  assert.equal(cut.loadReport.mode, "rebuild", "the database reflects more than the .idx holds");
  assertSameMap(cut, MemoryNeedleMap.fromIndex(shorter, 4, 3), "after a shorter .idx");
  await cut.closeAsync();

  const db = await openRaw(dir); // weed's rule: a watermark past the .idx means rebuild
  await db.del(STATE_KEY);
  await db.put(WATERMARK_KEY, encodeWatermark(5_000));
  await db.close();
  const past = load(dir, shorter, 4);
  assert.equal(past.loadReport.mode, "rebuild");
  assertSameMap(past, MemoryNeedleMap.fromIndex(shorter, 4, 3), "after a watermark past the .idx");
  await past.closeAsync();
});

test("an idle database is closed and reopened on the next use", async () => {
  const dir = freshDir();
  const ldb = LevelDbNeedleMap.load({
    directory: dir,
    image: Buffer.alloc(0),
    width: 4,
    version: 3,
    kind: "leveldbLarge",
    idleTimeoutMs: 30,
  });
  const mem = new MemoryNeedleMap(4, 3);
  const log = new Log(4, [ldb, mem]);
  log.randomOps(300, 51);
  await new Promise((r) => setTimeout(r, 120));
  assertSameMap(ldb, mem, "after an idle unload");
  log.randomOps(300, 52);
  assertSameMap(ldb, mem, "writes after reopening");
  await ldb.closeAsync();
  assert.throws(() => ldb.get(0, 1, { offset: 0, size: 0 }), /closed/);
});

test("a directory removed and made anew while its database still closes stays apart", async () => {
  const dir = freshDir();
  const log = new Log(4);
  log.randomOps(1_000, 61);
  const old = load(dir, log.image(), 4);
  await tick(); // its reader is open
  old.close(); // the reader closes in the background
  rmSync(dir, { recursive: true, force: true });
  const fresh = load(dir, Buffer.alloc(0), 4);
  assert.equal(fresh.size, 0);
  assert.notEqual(fresh.openedAt, old.openedAt, "opened under another spelling of the path");
  const mem = new MemoryNeedleMap(4, 3);
  const log2 = new Log(4, [fresh, mem]);
  log2.randomOps(200, 62);
  await tick();
  assertSameMap(fresh, mem, "the new database");
  await fresh.closeAsync();
  await old.closeAsync();
  const again = load(dir, log2.image(), 4);
  assert.equal(again.loadReport.mode, "current", "the new directory holds the new database");
  assertSameMap(again, mem, "reopened");
  await again.closeAsync();
});

test("volumes load and reload through the factory", async () => {
  const dir = mkdtempSync(join(scratch, "vol-"));
  const loc = { dir, idxDir: dir, collection: "", id: 3 };
  const needleMap = leveldbNeedleMap("leveldb");
  const v = createVolume(loc, {
    replicaPlacement: parseReplicaPlacement("000"),
    ttl: EMPTY_TTL,
    width: 4,
    needleMap,
  });
  for (let i = 1; i <= 50; i++)
    v.write(
      newNeedle({
        keyLo: i,
        cookie: 7,
        data: Buffer.from(`n${i}`),
        flags: FLAG_HAS_NAME,
        name: Buffer.from("x"),
      }),
    );
  v.delete(0, 3, 7);
  v.write(newNeedle({ keyLo: 4, cookie: 7, data: Buffer.from("again") }));
  const counts = [v.fileCount, v.deletedCount, v.contentBytes, v.deletedBytes];
  v.close();
  assert.ok(existsSync(join(dir, "3.ldb", "CURRENT")));
  const r = loadVolume(loc, { defaultWidth: 4, needleMap });
  assert.deepEqual([r.fileCount, r.deletedCount, r.contentBytes, r.deletedBytes], counts);
  assert.equal(r.read(0, 4).data.toString(), "again");
  assert.equal(r.read(0, 3, { readDeleted: true }).data.toString(), "n3");
  assert.equal((r.map as LevelDbNeedleMap).loadReport.mode, "current");
  r.close();
  await tick();
});
