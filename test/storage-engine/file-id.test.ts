import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FileIdError,
  formatFileId,
  parseFileId,
  parseNeedlePath,
  parseVolumeId,
} from "../../src/storage/needle/file-id.js";
import { formatTtl, parseTtl, ttlFromUint32, ttlToUint32 } from "../../src/storage/needle/ttl.js";

test("file ids parse and print as weed's", () => {
  assert.deepEqual(parseFileId("3,01637037d6"), { volumeId: 3, keyHi: 0, keyLo: 1, cookie: 0x637037d6 });
  assert.deepEqual(parseFileId("7,ABCDEF0123456789deadbeef"), {
    volumeId: 7,
    keyHi: 0xabcdef01,
    keyLo: 0x23456789,
    cookie: 0xdeadbeef,
  });
  assert.equal(formatFileId(3, 0, 1, 0x637037d6), "3,01637037d6");
  assert.equal(formatFileId(3, 0, 0, 0x37d6), "3,000037d6");
  assert.equal(formatFileId(9, 0x12, 0x3456, 0xff), "9,1200003456000000ff");
  for (const bad of [
    "3",
    ",0163",
    "3,1234",
    "3,0123456789abcdef0123456789",
    "x,01637037d6",
    "3,0g637037d6",
    "3,01637037zz",
  ]) {
    assert.throws(() => parseFileId(bad), FileIdError, bad);
  }
  assert.throws(() => parseFileId("3,1234"), /KeyHash is too short/);
  assert.throws(() => parseFileId("3,0123456789abcdef0123456789"), /KeyHash is too long/);
  assert.equal(parseVolumeId("4294967297"), 1, "kept to 32 bits like weed's VolumeId");
});

test("a _delta suffix adds to the needle id", () => {
  assert.deepEqual(parseNeedlePath("01637037d6_2"), { keyHi: 0, keyLo: 3, cookie: 0x637037d6 });
  assert.deepEqual(parseNeedlePath("ffffffff637037d6_1"), { keyHi: 1, keyLo: 0, cookie: 0x637037d6 });
  assert.throws(() => parseNeedlePath("ffffffffffffffff637037d6_1"), /overflows/);
  assert.throws(() => parseNeedlePath("637037d6"), /Invalid fid/);
});

test("TTLs pick weed's unit", () => {
  assert.equal(formatTtl(parseTtl("3m")), "3m");
  assert.equal(formatTtl(parseTtl("60m")), "1h");
  assert.equal(formatTtl(parseTtl("24h")), "1d");
  assert.equal(formatTtl(parseTtl("14d")), "2w");
  assert.equal(formatTtl(parseTtl("365d")), "1y");
  assert.equal(formatTtl(parseTtl("90")), "90m");
  assert.equal(formatTtl(parseTtl("300m")), "5h");
  assert.equal(formatTtl(parseTtl("")), "");
  assert.equal(ttlToUint32(parseTtl("5d")), (5 << 8) | 3);
  assert.equal(formatTtl(ttlFromUint32((5 << 8) | 3)), "5d");
});
