import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FileIdError,
  formatFileId,
  needleKeyFileId,
  parseFileId,
  parseNeedleIdCookie,
  parseNeedlePath,
  parseVolumeId,
} from "../../src/storage/needle/file-id.js";
import { keyToHex } from "../../src/storage/needle/needle-id.js";
import { keyHalves, vectors } from "./support.js";

interface FileIdVector {
  input: string;
  volumeId: number;
  key: string;
  cookie: number;
  error: string;
  format: string;
}

interface PathVector {
  input: string;
  key: string;
  cookie: number;
  error: string;
}

interface FormatVector {
  volumeId: number;
  key: string;
  cookie: number;
  fileId: string;
  keyFileId: string;
  needleIdString: string;
  parseError: string;
}

function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FileIdError, `${err} is a FileIdError`);
    return err.message;
  }
  return "";
}

for (const v of vectors<FileIdVector[]>("file-ids.json")) {
  test(`file id ${JSON.stringify(v.input)} as Go parses it`, () => {
    let parsed: ReturnType<typeof parseFileId> | undefined;
    const error = thrown(() => {
      parsed = parseFileId(v.input);
    });
    assert.equal(error, v.error);
    if (v.error) return;
    assert.ok(parsed);
    assert.equal(parsed.volumeId, v.volumeId);
    assert.equal(keyToHex(parsed.keyHi, parsed.keyLo), v.key);
    assert.equal(parsed.cookie, v.cookie);
    assert.equal(formatFileId(parsed.volumeId, parsed.keyHi, parsed.keyLo, parsed.cookie), v.format);
  });
}

for (const v of vectors<PathVector[]>("needle-paths.json")) {
  test(`needle path ${JSON.stringify(v.input)} as Go's ParsePath`, () => {
    let parsed: ReturnType<typeof parseNeedlePath> | undefined;
    const error = thrown(() => {
      parsed = parseNeedlePath(v.input);
    });
    assert.equal(error, v.error);
    if (v.error) return;
    assert.ok(parsed);
    assert.equal(keyToHex(parsed.keyHi, parsed.keyLo), v.key);
    assert.equal(parsed.cookie, v.cookie);
  });
}

test("file ids are formatted as Go formats them", () => {
  for (const v of vectors<FormatVector[]>("file-id-format.json")) {
    const [hi, lo] = keyHalves(v.key);
    assert.equal(formatFileId(v.volumeId, hi, lo, v.cookie), v.fileId);
    assert.equal(needleKeyFileId(v.volumeId, hi, lo), v.keyFileId);
    assert.equal(keyToHex(hi, lo), v.needleIdString);
    // A zero key formats to a bare cookie, which Go itself cannot parse back.
    const error = thrown(() => parseFileId(v.fileId));
    assert.equal(error, v.parseError);
  }
});

test("the reference's own key hash cases", () => {
  // weed/storage/needle/needle_test.go TestParseKeyHash, restated.
  const ok: [string, string, number][] = [
    ["4ed4c8116e41", "4ed4", 0xc8116e41],
    ["4ed401116e41", "4ed4", 0x01116e41],
    ["ed400116e41", "ed4", 0x00116e41],
    ["fed4c8114ed4c811f0116e41", "fed4c8114ed4c811", 0xf0116e41],
  ];
  for (const [text, key, cookie] of ok) {
    const p = parseNeedleIdCookie(text);
    assert.equal(keyToHex(p.keyHi, p.keyLo), key);
    assert.equal(p.cookie, cookie);
  }
  for (const bad of ["4ed4c811", "4ed4c8114ed4c8114ed4c8111", "helloworld"]) {
    assert.throws(() => parseNeedleIdCookie(bad), FileIdError);
  }
});

test("volume ids: decimal, kept to 32 bits", () => {
  assert.equal(parseVolumeId("7"), 7);
  assert.equal(parseVolumeId("0007"), 7);
  assert.equal(parseVolumeId("4294967297"), 1);
  assert.equal(parseVolumeId("18446744073709551615"), 4294967295);
  assert.throws(() => parseVolumeId(""), /invalid syntax/);
  assert.throws(() => parseVolumeId("1e3"), /invalid syntax/);
  assert.throws(() => parseVolumeId("18446744073709551616"), /value out of range/);
});
