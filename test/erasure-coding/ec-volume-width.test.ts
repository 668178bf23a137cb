// An EC volume's .ecx keeps the offset width its volume had at encode time, which the encode
// records in the .vif. The store's default can differ (with -offsetBytes=0 it follows the master's
// build once registered, after a volume may already exist): reading the .ecx with the default would
// find no entries, and a decode would refuse the volume as having no live needles.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { liveNeedleCount } from "../../src/storage/erasure-coding/decoder.js";
import { EcVolume } from "../../src/storage/erasure-coding/ec-volume.js";
import { encodeIndexEntry } from "../../src/storage/index/idx.js";
import { emptyVolumeInfo, saveVolumeInfo } from "../../src/storage/volume/volume-info.js";

function fourByteEcVolume(recordWidth: boolean): { dir: string; base: string } {
  const dir = mkdtempSync(join(tmpdir(), "ec-width-"));
  const base = join(dir, "7");
  // Two live needles, sorted by id, in 4-byte-offset entries (16 bytes each).
  writeFileSync(
    `${base}.ecx`,
    Buffer.concat([encodeIndexEntry(4, 0, 11, 1, 30), encodeIndexEntry(4, 0, 12, 7, 40)]),
  );
  writeFileSync(`${base}.ecj`, Buffer.alloc(0));
  const info = emptyVolumeInfo();
  info.version = 3;
  if (recordWidth) info.bytesOffset = 4;
  info.ecShardConfig = { dataShards: 10, parityShards: 4, encodeTsNs: 1n, blockSize: 0 };
  saveVolumeInfo(`${base}.vif`, info);
  return { dir, base };
}

test("an .ecx is read with the width the .vif records, not the store default", () => {
  const { dir, base } = fourByteEcVolume(true);
  try {
    const v = new EcVolume(7, "", base, base, 5);
    assert.equal(v.width, 4);
    assert.equal(liveNeedleCount(v), 2);
    assert.deepEqual(v.findNeedle(12n), { offset: 56, size: 40 });
    v.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without a recorded width the store default applies", () => {
  const { dir, base } = fourByteEcVolume(false);
  try {
    const v = new EcVolume(7, "", base, base, 4);
    assert.equal(v.width, 4);
    assert.equal(liveNeedleCount(v), 2);
    v.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
