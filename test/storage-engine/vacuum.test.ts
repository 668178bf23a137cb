import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { newNeedle } from "../../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../../src/storage/needle/ttl.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import { cleanup, commit, compact, garbageLevel } from "../../src/storage/volume/vacuum.js";
import { createVolume, loadVolume } from "../../src/storage/volume/volume-load.js";

const scratch = mkdtempSync(join(tmpdir(), "wv-vacuum-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function setup() {
  const dir = mkdtempSync(join(scratch, "v-"));
  const loc = { dir, idxDir: dir, collection: "c", id: 3 };
  const v = createVolume(loc, { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width: 4 });
  const body = (i: number) => Buffer.alloc(1000 + i, i);
  for (let i = 1; i <= 50; i++) v.write(newNeedle({ keyLo: i, cookie: 7, data: body(i) }));
  for (let i = 1; i <= 50; i += 2) v.delete(0, i, 7);
  return { v, loc, body };
}

test("compact and commit keep every live needle, drop the garbage, and bump the revision", async () => {
  const { v, loc, body } = setup();
  assert.ok(garbageLevel(v) > 0.4);
  const before = v.datSize;
  let reported = 0;
  await compact(v, {
    onProgress: (p) => {
      reported = p;
      return true;
    },
  });
  assert.ok(reported > 0);
  // Writes and deletes during the compaction are carried over by the commit.
  v.write(newNeedle({ keyLo: 100, cookie: 7, data: body(100) }));
  v.delete(0, 2, 7);
  const size = commit(v, () => loadVolume(loc, { defaultWidth: 4 }));
  assert.ok(size < before, `${size} < ${before}`);
  assert.equal(v.superBlock.compactionRevision, 1);
  for (let i = 1; i <= 50; i++) {
    if (i % 2 === 1 || i === 2) assert.throws(() => v.read(0, i), `${i} deleted`);
    else assert.deepEqual(v.read(0, i).data, body(i));
  }
  assert.deepEqual(v.read(0, 100).data, body(100));
  assert.equal(garbageLevel(v) < 0.1, true);
  v.write(newNeedle({ keyLo: 101, cookie: 7, data: body(101) }));
  v.close();
  const again = loadVolume(loc, { defaultWidth: 4 });
  assert.deepEqual(again.read(0, 101).data, body(101));
  assert.deepEqual(again.read(0, 4).data, body(4));
  assert.equal(again.noWriteOrDelete, false);
  again.close();
});

test("cleanup drops an uncommitted compaction; a commit marker left by a crash rolls forward", async () => {
  const { v, loc, body } = setup();
  await compact(v);
  assert.ok(existsSync(v.fileName(".cpd")));
  cleanup(v);
  assert.ok(!existsSync(v.fileName(".cpd")) && !existsSync(v.fileName(".cpx")));

  await compact(v);
  const compacted = statSync(v.fileName(".cpd")).size;
  v.close();
  writeFileSync(v.fileName(".cpc"), ""); // the crash came after the marker, before the renames
  const r = loadVolume(loc, { defaultWidth: 4 });
  assert.equal(r.datSize, compacted);
  assert.equal(r.superBlock.compactionRevision, 1);
  assert.deepEqual(r.read(0, 10).data, body(10));
  assert.ok(!existsSync(r.fileName(".cpc")));
  r.close();

  // Leftovers without a marker are rolled back.
  copyFileSync(r.fileName(".dat"), r.fileName(".cpd"));
  const s = loadVolume(loc, { defaultWidth: 4 });
  assert.ok(!existsSync(s.fileName(".cpd")));
  s.close();
});
