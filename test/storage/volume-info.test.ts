import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  emptyVolumeInfo,
  formatVolumeInfo,
  loadVolumeInfo,
  parseVolumeInfo,
  saveVolumeInfo,
  type VolumeInfo,
} from "../../src/storage/volume/volume-info.js";
import { scratchDir, vectors } from "./support.js";

interface Vif {
  written: Record<string, string>;
  parsed: Record<
    string,
    {
      input: string;
      error: string;
      version: number;
      bytesOffset: number;
      readOnly: boolean;
      datFileSize: number;
      expireAtSec: number;
      replication: string;
    }
  >;
}

const vif = vectors<Vif>("volume-info.json");

/**
 * Go's protojson deliberately varies its whitespace from build to build (one or two spaces after a
 * colon), so the text is compared after normalizing whitespace; field order and value spelling
 * (64-bit integers as strings, null for an absent message) must match exactly.
 */
const same = (ours: string, go: string | undefined) =>
  assert.equal(JSON.stringify(JSON.parse(ours)), JSON.stringify(JSON.parse(go ?? "")));

test(".vif files are written as Go's protojson writes them", () => {
  const full: VolumeInfo = {
    files: [
      {
        backendType: "s3",
        backendId: "default",
        key: "k/1.dat",
        offset: 1,
        fileSize: 2,
        modifiedTime: 3,
        extension: ".dat",
      },
    ],
    version: 3,
    replication: "010",
    bytesOffset: 5,
    datFileSize: 123456789012,
    expireAtSec: 1700000000,
    readOnly: true,
    ecShardConfig: { dataShards: 10, parityShards: 4, encodeTsNs: 1700000000123456789n, blockSize: 1024 },
    readOnlyCanDelete: true,
  };
  same(formatVolumeInfo(full), vif.written["full"]);
  same(formatVolumeInfo(emptyVolumeInfo()), vif.written["empty"]);
  const local = { ...emptyVolumeInfo(), version: 3, replication: "000", bytesOffset: 4, readOnly: true };
  same(formatVolumeInfo(local), vif.written["local"]);
  // And read back to the same values.
  assert.deepEqual(parseVolumeInfo(vif.written["full"]!), full);
  const dir = scratchDir("vif-");
  saveVolumeInfo(join(dir, "1.vif"), full);
  same(readFileSync(join(dir, "1.vif"), "utf8"), vif.written["full"]);
});

for (const [name, v] of Object.entries(vif.parsed)) {
  test(`.vif with ${name}: read as Go reads it`, () => {
    // Go loads a volume whose .vif has an unknown field (with a warning); we ignore the field.
    const goFails = v.error !== "" && name !== "unknown";
    if (goFails) {
      assert.throws(() => parseVolumeInfo(v.input));
      return;
    }
    const info = parseVolumeInfo(v.input);
    assert.equal(info.version, v.version);
    assert.equal(info.bytesOffset, v.bytesOffset);
    assert.equal(info.readOnly, v.readOnly);
    assert.equal(info.datFileSize, v.datFileSize);
    assert.equal(info.expireAtSec, v.expireAtSec);
    assert.equal(info.replication, v.replication);
  });
}

test("a missing or empty .vif is no info; a garbage one is an error naming the file", () => {
  const dir = scratchDir("vif-");
  assert.equal(loadVolumeInfo(join(dir, "none.vif")), undefined);
  writeFileSync(join(dir, "empty.vif"), "");
  assert.equal(loadVolumeInfo(join(dir, "empty.vif")), undefined);
  writeFileSync(join(dir, "bad.vif"), "{");
  assert.throws(() => loadVolumeInfo(join(dir, "bad.vif")), /bad\.vif/);
});
