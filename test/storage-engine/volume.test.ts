import assert from "node:assert/strict";
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FLAG_HAS_NAME, newNeedle } from "../../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../../src/storage/needle/ttl.js";
import type { OffsetWidth } from "../../src/storage/types.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import { VolumeError } from "../../src/storage/volume/volume.js";
import { loadVolumeInfo } from "../../src/storage/volume/volume-info.js";
import { createVolume, loadVolume } from "../../src/storage/volume/volume-load.js";

const FIXTURES = "/work/shared/fixtures/seaweedfs-go";
const scratch = mkdtempSync(join(tmpdir(), "wv-volume-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function makeVolume(width: OffsetWidth, collection = "") {
  const dir = mkdtempSync(join(scratch, "v-"));
  const loc = { dir, idxDir: dir, collection, id: 7 };
  const v = createVolume(loc, { replicaPlacement: parseReplicaPlacement("001"), ttl: EMPTY_TTL, width });
  return { v, loc };
}

const put = (keyLo: number, data: string, cookie = 0xabc) =>
  newNeedle({ keyLo, cookie, data: Buffer.from(data), flags: FLAG_HAS_NAME, name: Buffer.from(`f${keyLo}`) });

for (const width of [4, 5] as OffsetWidth[]) {
  test(`write, read, delete and reload with ${width}-byte offsets`, () => {
    const { v, loc } = makeVolume(width, "pics");
    assert.ok(v.fileName(".dat").endsWith("pics_7.dat"));
    v.write(put(1, "one"));
    v.write(put(2, "two"));
    v.write(put(1, "uno")); // overwrite
    assert.equal(v.write(put(2, "two")).unchanged, true, "same content again is unchanged");
    assert.throws(
      () => v.write(put(2, "deux", 0x999), { checkCookie: true }),
      (e) => e instanceof VolumeError && e.kind === "cookie-mismatch",
    );
    assert.equal(v.delete(0, 2, 0xabc), 11, "the needle's size field: 4 + data + flags + name");
    assert.equal(v.delete(0, 2, 0xabc), 0);
    assert.equal(v.read(0, 1).data.toString(), "uno");
    assert.equal(v.read(0, 1).name.toString(), "f1");
    assert.throws(
      () => v.read(0, 2),
      (e) => e instanceof VolumeError && e.kind === "deleted",
    );
    assert.equal(v.read(0, 2, { readDeleted: true }).data.toString(), "two");
    assert.throws(
      () => v.read(0, 3),
      (e) => e instanceof VolumeError && e.kind === "not-found",
    );
    const counts = [v.fileCount, v.deletedCount, v.contentBytes, v.deletedBytes];
    assert.deepEqual(counts, [3, 2, 33, 22]);
    v.close();

    const r = loadVolume(loc, { defaultWidth: width === 4 ? 5 : 4 });
    assert.equal(r.width, width, "the width comes from the .vif");
    assert.equal(loadVolumeInfo(r.fileName(".vif"))?.bytesOffset, width);
    assert.deepEqual([r.fileCount, r.deletedCount, r.contentBytes, r.deletedBytes], counts);
    assert.equal(r.read(0, 1).data.toString(), "uno");
    assert.equal(r.noWriteOrDelete, false);
    assert.equal(statSync(r.fileName(".idx")).size % (12 + width), 0);
    r.close();
  });
}

test("a write interrupted between .dat and .idx is re-indexed; a torn record is cut off", () => {
  const { v, loc } = makeVolume(4);
  v.write(put(1, "first"));
  const idxBefore = readFileSync(v.fileName(".idx"));
  v.write(put(2, "second")); // .dat and .idx
  const datAfterSecond = statSync(v.fileName(".dat")).size;
  v.write(put(3, "third-torn"));
  v.close();
  writeFileSync(v.fileName(".idx"), idxBefore); // lose the index entries of 2 and 3
  truncateSync(v.fileName(".dat"), statSync(v.fileName(".dat")).size - 5); // tear the last record
  const warnings: string[] = [];
  const r = loadVolume(loc, { defaultWidth: 4, warn: (m) => warnings.push(m) });
  assert.equal(r.read(0, 2).data.toString(), "second");
  assert.throws(
    () => r.read(0, 3),
    (e) => e instanceof VolumeError && e.kind === "not-found",
  );
  assert.equal(r.datSize, datAfterSecond);
  assert.equal(r.noWriteOrDelete, false);
  assert.match(warnings.join(), /re-indexed 1 needle/);
  r.write(put(4, "after repair"));
  assert.equal(r.read(0, 4).data.toString(), "after repair");
  r.close();
});

test("a torn index entry makes the volume read-only, and everything indexed stays readable", () => {
  const { v, loc } = makeVolume(4);
  v.write(put(1, "a"));
  v.write(put(2, "b"));
  v.close();
  appendFileSync(v.fileName(".idx"), Buffer.from([1, 2, 3]));
  const r = loadVolume(loc, { defaultWidth: 4 });
  assert.equal(r.noWriteOrDelete, true);
  assert.equal(r.read(0, 2).data.toString(), "b");
  assert.throws(
    () => r.write(put(3, "c")),
    (e) => e instanceof VolumeError && e.kind === "read-only",
  );
  r.close();
});

test("a missing .idx is rebuilt from the .dat", () => {
  const { v, loc } = makeVolume(4);
  v.write(put(1, "a"));
  v.write(put(2, "b"));
  v.delete(0, 1, 0xabc);
  const idx = readFileSync(v.fileName(".idx"));
  v.close();
  rmSync(v.fileName(".idx"));
  const r = loadVolume(loc, { defaultWidth: 4 });
  assert.deepEqual(readFileSync(r.fileName(".idx")), idx, "the rebuilt index equals the one written");
  assert.throws(() => r.read(0, 1));
  r.close();
});

test("read-only is persisted in the .vif", () => {
  const { v, loc } = makeVolume(4);
  v.setReadOnly(true, true);
  v.close();
  const r = loadVolume(loc, { defaultWidth: 4 });
  assert.equal(r.isReadOnly(), true);
  r.setReadOnly(false, true);
  r.close();
  assert.equal(loadVolume(loc, { defaultWidth: 4 }).isReadOnly(), false);
});

test("Go's healthy and bitrot fixtures: every needle reads, the flipped byte is a checksum error", () => {
  for (const [name, bad] of [
    ["healthy_volume", 0],
    ["bitrot_volume", 2],
  ] as const) {
    const dir = mkdtempSync(join(scratch, "fx-"));
    copyFileSync(`${FIXTURES}/test_files--${name}.dat`, join(dir, "1.dat"));
    copyFileSync(`${FIXTURES}/test_files--${name}.idx`, join(dir, "1.idx"));
    const r = loadVolume({ dir, idxDir: dir, collection: "", id: 1 }, { defaultWidth: 4 });
    assert.equal(r.replication, "002");
    let ok = 0;
    let crc = 0;
    r.map.forEach((hi, lo) => {
      try {
        const n = r.read(hi, lo, { readDeleted: true });
        assert.match(n.name.toString(), /^file_\d+$/);
        ok++;
      } catch (e) {
        assert.match((e as Error).message, /invalid CRC/);
        crc++;
      }
    });
    assert.equal(crc, bad, name);
    assert.equal(ok + crc, 17);
    r.close();
  }
});
