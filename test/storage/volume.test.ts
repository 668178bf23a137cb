import assert from "node:assert/strict";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readIndexEntry } from "../../src/storage/index/idx.js";
import {
  encodeNeedleToBuffer,
  FLAG_HAS_LAST_MODIFIED,
  FLAG_HAS_MIME,
  FLAG_HAS_NAME,
  FLAG_HAS_PAIRS,
  FLAG_HAS_TTL,
  NeedleError,
  newNeedle,
  parseHeader,
} from "../../src/storage/needle/needle.js";
import { keyToBigInt } from "../../src/storage/needle/needle-id.js";
import { EMPTY_TTL, parseTtl } from "../../src/storage/needle/ttl.js";
import { actualSize, type OffsetWidth, type Version } from "../../src/storage/types.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import { type Volume, VolumeError } from "../../src/storage/volume/volume.js";
import { loadVolumeInfo } from "../../src/storage/volume/volume-info.js";
import { createVolume, loadVolume } from "../../src/storage/volume/volume-load.js";
import { copyFixtures, FIXTURES, scratchDir, VECTORS, vectors } from "./support.js";

const scratch = scratchDir("volume-");
let dirs = 0;
const newDir = () => {
  const d = join(scratch, `d${dirs++}`);
  mkdirSync(d);
  return d;
};

function load(dir: string, id = 1, width: OffsetWidth = 4, collection = "", warnings: string[] = []): Volume {
  return loadVolume(
    { dir, idxDir: dir, collection, id },
    { defaultWidth: width, warn: (m) => warnings.push(m) },
  );
}

/** Every (key, offset, size) of an .idx, last entry per key. */
function indexEntries(path: string, width: OffsetWidth) {
  const image = readFileSync(path);
  const out = new Map<bigint, { hi: number; lo: number; offset: number; size: number }>();
  const e = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  for (let at = 0; at + 8 + width + 4 <= image.length; at += 8 + width + 4) {
    readIndexEntry(image, at, width, e);
    out.set(keyToBigInt(e.keyHi, e.keyLo), { hi: e.keyHi, lo: e.keyLo, offset: e.offset, size: e.size });
  }
  return out;
}

test("healthy_volume: every live needle reads back with its checksum, name and mime", () => {
  const dir = newDir();
  copyFixtures(dir, [
    ["test_files--healthy_volume.dat", "1.dat"],
    ["test_files--healthy_volume.idx", "1.idx"],
  ]);
  const v = load(dir);
  assert.equal(v.version, 3);
  assert.equal(v.replication, "002");
  assert.equal(v.isReadOnly(), false);
  let live = 0;
  for (const e of indexEntries(join(dir, "1.idx"), 4).values()) {
    if (e.size < 0) {
      assert.throws(
        () => v.read(e.hi, e.lo),
        (err: unknown) => err instanceof VolumeError && err.kind === "deleted",
      );
      continue;
    }
    const n = v.read(e.hi, e.lo);
    live++;
    assert.equal(n.size, e.size);
    assert.ok(n.data.length > 0);
    assert.ok(n.flags & FLAG_HAS_NAME, "has a name");
    assert.ok(n.name.length > 0);
    assert.ok(n.flags & FLAG_HAS_MIME); // weed sets it even for an empty mime
    assert.ok(n.appendAtNs > 0n);
    // Metadata without data, and a byte range straight from the file.
    const meta = v.readMeta(e.offset * 8, e.size);
    assert.equal(meta.needle.name.toString(), n.name.toString());
    assert.equal(meta.needle.checksum, n.checksum);
    assert.equal(meta.dataSize, n.data.length);
    const part = v.readData(meta.dataOffset, 100, 50);
    assert.ok(part.equals(n.data.subarray(100, 150)));
  }
  assert.equal(live, v.fileCount - v.deletedCount);
  assert.equal(v.fileCount, 17);
  assert.equal(v.deletedCount, 10);
  v.close();
});

test("bitrot_volume: the flipped bytes are checksum errors, the other needles read", () => {
  const dir = newDir();
  copyFixtures(dir, [
    ["test_files--bitrot_volume.dat", "1.dat"],
    ["test_files--bitrot_volume.idx", "1.idx"],
  ]);
  const warnings: string[] = [];
  const v = load(dir, 1, 4, "", warnings);
  // Its stray last byte is a torn tail: cut, as weed does, and the volume loads writable.
  assert.equal(statSync(join(dir, "1.dat")).size, 942856);
  assert.ok(warnings.some((w) => w.includes("cut 1 bytes")));
  const bad: string[] = [];
  for (const e of indexEntries(join(dir, "1.idx"), 4).values()) {
    if (e.size < 0) continue;
    try {
      v.read(e.hi, e.lo);
    } catch (err) {
      assert.ok(err instanceof NeedleError && err.kind === "crc", String(err));
      bad.push(e.lo.toString(16));
    }
  }
  assert.deepEqual(bad.sort(), ["3", "30"]);
  v.close();
});

test("empty_volume, erasure_coding--1 and needle--43 (no .idx: rebuilt) load and read", () => {
  const dir = newDir();
  copyFixtures(dir, [
    ["test_files--empty_volume.dat", "1.dat"],
    ["test_files--empty_volume.idx", "1.idx"],
    ["erasure_coding--1.dat", "2.dat"],
    ["erasure_coding--1.idx", "2.idx"],
    ["needle--43.dat", "3.dat"],
  ]);
  const empty = load(dir, 1);
  assert.equal(empty.fileCount, 0);
  assert.equal(empty.isReadOnly(), false);
  empty.close();
  const ec = load(dir, 2);
  let read = 0;
  for (const e of indexEntries(join(dir, "2.idx"), 4).values()) {
    if (e.size > 0) {
      ec.read(e.hi, e.lo);
      read++;
    }
  }
  assert.equal(read, 298);
  ec.close();
  const rebuilt = load(dir, 3);
  assert.ok(existsSync(join(dir, "3.idx")));
  assert.ok(rebuilt.fileCount > 0);
  for (const e of indexEntries(join(dir, "3.idx"), 4).values()) if (e.size > 0) rebuilt.read(e.hi, e.lo);
  rebuilt.close();
});

for (const width of [4, 5] as OffsetWidth[]) {
  test(`a volume written by Go's Store (${width}-byte offsets) loads with Go's counters`, () => {
    const dir = newDir();
    copyFixtures(
      dir,
      [
        [`go-volume-${width}byte.dat`, "pics_7.dat"],
        [`go-volume-${width}byte.idx`, "pics_7.idx"],
        [`go-volume-${width}byte.vif`, "pics_7.vif"],
      ],
      VECTORS,
    );
    const go = vectors<{ fileCount: number; deletedCount: number; contentSize: number; deletedSize: number }>(
      `go-volume-${width}byte.json`,
    );
    // The .vif says the width: the store default does not matter.
    const v = load(dir, 7, width === 4 ? 5 : 4, "pics");
    assert.equal(v.width, width);
    assert.equal(v.isReadOnly(), false);
    assert.equal(v.fileCount, go.fileCount);
    assert.equal(v.deletedCount, go.deletedCount);
    assert.equal(v.contentBytes, go.contentSize);
    assert.equal(v.deletedBytes, go.deletedSize);
    assert.equal(v.read(0, 3).data.toString(), "overwritten");
    assert.equal(v.read(0, 1).name.toString(), "f1.txt");
    assert.throws(() => v.read(0, 5), /deleted/);
    assert.equal(v.read(0, 5, { readDeleted: true }).data.toString(), "555555555555555");
    v.close();

    // The same writes and deletes here give the same records, append times aside.
    const ours = newDir();
    const mine = createVolume(
      { dir: ours, idxDir: ours, collection: "pics", id: 7 },
      { replicaPlacement: parseReplicaPlacement("001"), ttl: EMPTY_TTL, width },
    );
    const put = (k: number, data: string, name: string) =>
      mine.write(
        newNeedle({
          keyLo: k,
          cookie: 0x1000 + k,
          data: Buffer.from(data),
          name: Buffer.from(name),
          mime: Buffer.from("text/plain"),
          lastModified: 1700000000,
          flags: FLAG_HAS_NAME | FLAG_HAS_MIME | FLAG_HAS_LAST_MODIFIED,
        }),
        { checkCookie: true },
      );
    for (let k = 1; k <= 10; k++) put(k, String(k).repeat(k * 3), `f${k}.txt`);
    put(3, "overwritten", "f3b.txt");
    mine.delete(0, 5, 0x1005);
    mine.delete(0, 10, 0x100a);
    put(11, "", "empty.txt");
    mine.close();
    const stamp = (dat: Buffer) => {
      // Zero every record's append time.
      for (let at = 8; at < dat.length; ) {
        const h = parseHeader(dat, at);
        dat.fill(0, at + 16 + h.size + 4, at + 16 + h.size + 12);
        at += actualSize(h.size, 3);
      }
      return dat.toString("hex");
    };
    assert.equal(stamp(readFileSync(join(ours, "pics_7.dat"))), stamp(readFileSync(join(dir, "pics_7.dat"))));
    assert.ok(readFileSync(join(ours, "pics_7.idx")).equals(readFileSync(join(dir, "pics_7.idx"))));
    assert.deepEqual(loadVolumeInfo(join(ours, "pics_7.vif")), loadVolumeInfo(join(dir, "pics_7.vif")));
  });
}

function freshVolume(width: OffsetWidth = 4, version: Version = 3, ttl = EMPTY_TTL) {
  const dir = newDir();
  const v = createVolume(
    { dir, idxDir: dir, collection: "", id: 1 },
    { replicaPlacement: parseReplicaPlacement("000"), ttl, width, version },
  );
  return { dir, v };
}

for (const version of [1, 2, 3] as Version[]) {
  test(`v${version}: round trip of needles with every flag combination, reloaded`, () => {
    const { dir, v } = freshVolume(5, version);
    const expected: { k: number; data: string; flags: number }[] = [];
    for (let flags = 0; flags < 64; flags++) {
      const k = flags + 1;
      const data = `needle ${k} `.repeat(k % 7);
      v.write(
        newNeedle({
          keyLo: k,
          cookie: 0xc0ffee,
          data: Buffer.from(data),
          flags: flags | (flags & 1 ? 0x80 : 0),
          name: Buffer.from(`n${k}.bin`),
          mime: Buffer.from("application/x-test"),
          lastModified: 1_700_000_000 + k,
          ttl: flags & FLAG_HAS_TTL ? parseTtl("3d") : EMPTY_TTL,
          pairs: Buffer.from(`{"k":"${k}"}`),
        }),
      );
      expected.push({ k, data, flags: flags | (flags & 1 ? 0x80 : 0) });
    }
    v.close();
    const again = load(dir, 1, 4);
    assert.equal(again.width, 5);
    for (const { k, data, flags } of expected) {
      if (version === 2 && data !== "" && flags & FLAG_HAS_TTL && flags & FLAG_HAS_LAST_MODIFIED) {
        // As in weed: a v2 needle has no append time, so its TTL counts from 1970: expired.
        assert.throws(() => again.read(0, k), /not found/);
        continue;
      }
      const n = again.read(0, k);
      assert.equal(n.data.toString(), data);
      assert.equal(n.cookie, 0xc0ffee);
      if (version === 1 || data === "") continue;
      assert.equal(n.flags, flags);
      if (flags & FLAG_HAS_NAME) assert.equal(n.name.toString(), `n${k}.bin`);
      if (flags & FLAG_HAS_LAST_MODIFIED) assert.equal(n.lastModified, 1_700_000_000 + k);
      if (flags & FLAG_HAS_PAIRS) assert.equal(n.pairs.toString(), `{"k":"${k}"}`);
    }
    again.close();
  });
}

test("delete appends a tombstone with the deleted needle's checksum, and an idx entry of -1", () => {
  const { dir, v } = freshVolume();
  const n = newNeedle({ keyLo: 9, cookie: 5, data: Buffer.from("bye") });
  v.write(n);
  const datBefore = statSync(join(dir, "1.dat")).size;
  assert.equal(v.delete(0, 9, 5), n.size);
  assert.equal(v.delete(0, 9, 5), 0, "already deleted");
  v.close();
  const dat = readFileSync(join(dir, "1.dat"));
  assert.equal(dat.length - datBefore, actualSize(0, 3));
  const tomb = dat.subarray(datBefore);
  assert.equal(tomb.readUInt32BE(12), 0, "size 0");
  assert.equal(tomb.readUInt32BE(16), n.checksum, "the deleted needle's checksum");
  const idx = readFileSync(join(dir, "1.idx"));
  assert.equal(idx.readInt32BE(idx.length - 4), -1);
});

test("a torn tail: a partial record is cut, complete unindexed needles are re-indexed", () => {
  const { dir, v } = freshVolume();
  v.write(newNeedle({ keyLo: 1, cookie: 1, data: Buffer.from("one") }));
  v.write(newNeedle({ keyLo: 2, cookie: 1, data: Buffer.from("two") }));
  v.close();
  // A crash between the .dat and .idx appends, then half of another record.
  const idx = join(dir, "1.idx");
  truncateSync(idx, 16);
  const extra = encodeNeedleToBuffer(
    newNeedle({ keyLo: 3, cookie: 1, data: Buffer.from("three"), appendAtNs: 2n ** 62n }),
    3,
  );
  appendFileSync(join(dir, "1.dat"), extra.subarray(0, 20));
  const warnings: string[] = [];
  const again = load(dir, 1, 4, "", warnings);
  assert.equal(again.isReadOnly(), false);
  assert.equal(again.read(0, 2).data.toString(), "two", "re-indexed");
  assert.throws(() => again.read(0, 3), /not found/);
  assert.equal(statSync(idx).size, 32);
  assert.ok(warnings.some((w) => w.includes("re-indexed 1 needle(s), cut 20 bytes")));
  again.close();
});

test("a damaged last record is cut; a damaged record with data after it makes the volume read-only", () => {
  const { dir, v } = freshVolume();
  v.write(newNeedle({ keyLo: 1, cookie: 1, data: Buffer.from("one") }));
  v.close();
  const dat = join(dir, "1.dat");
  const size = statSync(dat).size;
  const damaged = encodeNeedleToBuffer(
    newNeedle({ keyLo: 2, cookie: 1, data: Buffer.from("x"), appendAtNs: 2n ** 62n }),
    3,
  );
  damaged[20]! ^= 0xff; // in the data: CRC fails
  appendFileSync(dat, damaged);
  const a = load(dir);
  assert.equal(a.isReadOnly(), false);
  assert.equal(statSync(dat).size, size);
  a.close();
  appendFileSync(dat, damaged);
  appendFileSync(
    dat,
    encodeNeedleToBuffer(
      newNeedle({ keyLo: 3, cookie: 1, data: Buffer.from("y"), appendAtNs: 2n ** 62n + 1n }),
      3,
    ),
  );
  const warnings: string[] = [];
  const b = load(dir, 1, 4, "", warnings);
  assert.equal(b.isReadOnly(), true);
  assert.ok(warnings.some((w) => w.includes("not repaired")));
  assert.equal(b.read(0, 1).data.toString(), "one", "what is indexed still reads");
  assert.throws(() => b.write(newNeedle({ keyLo: 4, data: Buffer.from("z") })), /read only/);
  b.close();
});

test("an .idx that names bytes the .dat lacks, or ends in a partial entry, loads read-only", () => {
  const { dir, v } = freshVolume();
  v.write(newNeedle({ keyLo: 1, cookie: 1, data: Buffer.from("one") }));
  v.write(newNeedle({ keyLo: 2, cookie: 1, data: Buffer.from("two") }));
  v.close();
  const dat = join(dir, "1.dat");
  truncateSync(dat, statSync(dat).size - 8);
  const a = load(dir);
  assert.equal(a.isReadOnly(), true);
  assert.equal(a.read(0, 1).data.toString(), "one");
  a.close();
  const b = freshVolume();
  b.v.write(newNeedle({ keyLo: 1, cookie: 1, data: Buffer.from("one") }));
  b.v.close();
  appendFileSync(join(b.dir, "1.idx"), Buffer.alloc(5));
  const c = load(b.dir);
  assert.equal(c.isReadOnly(), true);
  assert.equal(c.read(0, 1).data.toString(), "one");
  c.close();
});

test("garbage files fail that volume with a clear error", () => {
  const dir = newDir();
  writeFileSync(join(dir, "1.dat"), Buffer.from("hi"));
  assert.throws(() => load(dir, 1), /not initialized/);
  writeFileSync(join(dir, "2.dat"), Buffer.from("\x09\x00\x00\x00\x00\x00\x00\x00"));
  assert.throws(() => load(dir, 2), /version 9/);
  copyFileSync(join(FIXTURES, "test_files--empty_volume.dat"), join(dir, "3.dat"));
  writeFileSync(join(dir, "3.vif"), "not json");
  assert.throws(() => load(dir, 3), /3\.vif/);
  assert.throws(() => load(dir, 4), /does not exist/);
});

test("read-only is persisted in the .vif; needles with a TTL expire", () => {
  const { dir, v } = freshVolume(4, 3, parseTtl("1m"));
  v.write(
    newNeedle({
      keyLo: 1,
      cookie: 1,
      data: Buffer.from("soon gone"),
      flags: FLAG_HAS_LAST_MODIFIED,
      lastModified: 1,
    }),
  );
  const n = v.read(0, 1);
  assert.deepEqual(n.ttl, parseTtl("1m"), "the volume's TTL is given to the needle");
  assert.equal(v.isExpired({ ...n, appendAtNs: n.appendAtNs - 61_000_000_000n }), true);
  assert.equal(v.isExpired(n), false);
  assert.equal(v.isVolumeExpired(1000, 30_000_000, Date.now() / 1000 + 120), true);
  assert.equal(v.isVolumeExpired(1000, 0, Date.now() / 1000 + 120), false, "no size limit known yet");
  assert.equal(v.isVolumeExpired(1000, 30_000_000), false);
  assert.ok(v.expireAtSec() >= Math.floor(Date.now() / 1000) + 59);
  v.setReadOnly(true, true);
  assert.throws(() => v.write(newNeedle({ keyLo: 2, data: Buffer.from("no") })), /read only/);
  v.close();
  assert.equal(loadVolumeInfo(join(dir, "1.vif"))?.readOnly, true);
  const again = load(dir);
  assert.equal(again.isReadOnly(), true);
  again.setReadOnly(false, true);
  again.close();
  assert.equal(loadVolumeInfo(join(dir, "1.vif"))?.readOnly, false);
});

test("counters for heartbeat and vacuum", () => {
  const { v } = freshVolume();
  v.write(newNeedle({ keyLo: 1, cookie: 1, data: Buffer.alloc(100) }));
  v.write(newNeedle({ keyLo: 2, cookie: 1, data: Buffer.alloc(50) }));
  v.write(newNeedle({ keyLo: 1, cookie: 1, data: Buffer.alloc(70) }));
  v.delete(0, 2, 1);
  assert.equal(v.fileCount, 3);
  assert.equal(v.deletedCount, 2);
  assert.equal(v.contentBytes, 105 + 55 + 75);
  assert.equal(v.deletedBytes, 105 + 55);
  assert.equal(v.maxFileKey, 2n);
  assert.throws(
    () => v.write(newNeedle({ keyLo: 1, cookie: 2, data: Buffer.alloc(1) }), { checkCookie: true }),
    /cookie/,
  );
  assert.equal(v.write(newNeedle({ keyLo: 1, cookie: 1, data: Buffer.alloc(70) })).unchanged, true);
  v.close();
});
