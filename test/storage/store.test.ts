import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { newNeedle } from "../../src/storage/needle/needle.js";
import { Store } from "../../src/storage/store/store.js";
import { copyFixtures, scratchDir } from "./support.js";

function store(dirs: { dir: string; max?: number; idx?: string; disk?: string }[], warnings: string[] = []) {
  return new Store({
    locations: dirs.map((d) => ({
      directory: d.dir,
      idxDirectory: d.idx ?? "",
      maxVolumeCount: d.max ?? 8,
      minFreeSpace: { kind: "percent", percent: 0 },
      diskType: d.disk ?? "",
      tags: [],
    })),
    defaultWidth: 4,
    log: { info: () => undefined, warn: (m) => warnings.push(m) },
  });
}

test("volumes spread over directories, ids unique across them, disk types and max counts respected", () => {
  const root = scratchDir("store-");
  const [a, b, ssd] = ["a", "b", "ssd"].map((n) => join(root, n)) as [string, string, string];
  for (const d of [a, b, ssd]) mkdirSync(d);
  const s = store([
    { dir: a, max: 1 },
    { dir: b, max: 2 },
    { dir: ssd, disk: "ssd" },
  ]);
  s.addVolume(1, "", "000", "");
  s.addVolume(2, "pics", "001", "3d");
  s.addVolume(3, "", "000", "", { diskType: "ssd" });
  assert.throws(() => s.addVolume(2, "", "000", ""), /already exists/);
  s.addVolume(4, "", "000", "");
  assert.throws(() => s.addVolume(5, "", "000", ""), /free space|No more/);
  assert.ok(existsSync(join(a, "1.dat")));
  assert.ok(existsSync(join(b, "pics_2.dat")));
  assert.ok(existsSync(join(ssd, "3.dat")));
  assert.equal(s.findVolume(2)?.ttlText, "3d");
  assert.equal(s.locate(3)?.diskId, 2);
  s.findVolume(2)!.write(newNeedle({ keyLo: 1, cookie: 1, data: Buffer.from("kept") }));

  // Unmount keeps the files; mount loads them again.
  s.unmountVolume(2);
  assert.equal(s.findVolume(2), undefined);
  assert.equal(s.mountVolume(2).read(0, 1).data.toString(), "kept");
  s.deleteCollection("pics");
  assert.equal(s.findVolume(2), undefined);
  assert.ok(!existsSync(join(b, "pics_2.dat")));
  s.close();
});

test("start-up loads every volume; a broken one is skipped with a warning, a duplicate id too", async () => {
  const root = scratchDir("store-");
  const [a, b, idx] = ["a", "b", "idx"].map((n) => join(root, n)) as [string, string, string];
  for (const d of [a, b, idx]) mkdirSync(d);
  copyFixtures(a, [
    ["test_files--healthy_volume.dat", "col_1.dat"],
    ["test_files--healthy_volume.idx", "col_1.idx"],
    ["erasure_coding--1.dat", "2.dat"],
  ]);
  copyFixtures(idx, [["erasure_coding--1.idx", "2.idx"]]);
  writeFileSync(join(a, "3.dat"), "garbage");
  copyFixtures(b, [
    ["test_files--empty_volume.dat", "1.dat"],
    ["test_files--empty_volume.idx", "1.idx"],
    ["test_files--empty_volume.dat", "4.dat"],
  ]);
  const warnings: string[] = [];
  const s = store([{ dir: a, idx }, { dir: b }], warnings);
  await s.loadExistingVolumes();
  assert.equal(s.findVolume(1)?.collection, "col", "the first directory's volume 1 wins");
  assert.equal(s.findVolume(1)?.fileCount, 17);
  assert.equal(s.findVolume(2)?.fileCount, 298, "its .idx came from -dir.idx");
  assert.equal(s.findVolume(3), undefined);
  assert.ok(s.findVolume(4));
  assert.ok(warnings.some((w) => w.includes("3") && w.includes("not initialized")));
  assert.ok(warnings.some((w) => w.includes("already loaded")));
  s.close();
});
