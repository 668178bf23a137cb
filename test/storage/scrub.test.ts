// Scrub over SeaweedFS's own fixtures: the healthy volume is clean; in the bit-rotted one the
// flipped byte shows as a checksum error of the needle that holds it.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scrubIndex, scrubVolume } from "../../src/storage/volume/scrub.js";
import { loadVolume } from "../../src/storage/volume/volume-load.js";
import { copyFixtures, scratchDir } from "./support.js";

const scratch = scratchDir("scrub-");
let dirs = 0;

function fixtureVolume(name: string) {
  const dir = join(scratch, `d${dirs++}`);
  mkdirSync(dir);
  copyFixtures(dir, [
    [`test_files--${name}.dat`, "1.dat"],
    [`test_files--${name}.idx`, "1.idx"],
  ]);
  return loadVolume({ dir, idxDir: dir, collection: "", id: 1 }, { defaultWidth: 4, warn: () => undefined });
}

test("the healthy fixture scrubs clean in index and full modes", async () => {
  const v = fixtureVolume("healthy_volume");
  assert.deepEqual(scrubIndex(v), { files: 27, problems: [] });
  assert.deepEqual(await scrubVolume(v), { files: 27, problems: [] });
  v.close();
});

test("the bit-rotted fixture's damaged needles are reported by a full scrub", async () => {
  const v = fixtureVolume("bitrot_volume");
  const result = await scrubVolume(v);
  assert.equal(result.files, 27);
  const crc = result.problems.filter((p) => p.includes("invalid CRC"));
  assert.ok(crc.length > 0, result.problems.join("\n"));
  for (const p of crc)
    assert.match(p, /^failed to read needle \d+ on volume 1: invalid CRC for needle [0-9a-f]+ /);
  // The index itself is intact.
  assert.deepEqual(scrubIndex(v).problems, []);
  v.close();
});
