import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { crcEtag, maskedCrc, needleCrc } from "../../src/storage/needle/crc.js";
import {
  encodeNeedleToBuffer,
  FLAG_CHUNK_MANIFEST,
  FLAG_COMPRESSED,
  FLAG_HAS_LAST_MODIFIED,
  FLAG_HAS_MIME,
  FLAG_HAS_NAME,
  FLAG_HAS_PAIRS,
  FLAG_HAS_TTL,
  NeedleError,
  newNeedle,
  parseNeedle,
} from "../../src/storage/needle/needle.js";
import { parseTtl } from "../../src/storage/needle/ttl.js";
import { actualSize, type Version } from "../../src/storage/types.js";

const FIXTURES = "/work/shared/fixtures/seaweedfs-go";

test("CRC-32C as weed computes it, and the masked legacy form", () => {
  assert.equal(needleCrc(Buffer.from("123456789")), 0xe3069283);
  assert.equal(needleCrc(Buffer.from("6789"), needleCrc(Buffer.from("12345"))), 0xe3069283);
  assert.equal(maskedCrc(0), 0xa282ead8);
  assert.equal(crcEtag(0x0a0b0c0d), "0a0b0c0d");
});

test("every needle version and flag combination round-trips", () => {
  const flagSets = [
    0,
    FLAG_HAS_NAME | FLAG_HAS_MIME,
    FLAG_HAS_LAST_MODIFIED | FLAG_HAS_TTL,
    FLAG_HAS_PAIRS | FLAG_COMPRESSED | FLAG_CHUNK_MANIFEST,
    0xbf,
  ];
  for (const version of [1, 2, 3] as Version[]) {
    for (const flags of flagSets) {
      for (const data of [Buffer.alloc(0), Buffer.from("x"), Buffer.alloc(1000, 7)]) {
        const n = newNeedle({
          cookie: 0x12345678,
          keyHi: 1,
          keyLo: 0xfffffffe,
          data,
          flags,
          name: Buffer.from("file.txt"),
          mime: Buffer.from("text/plain"),
          lastModified: 1_700_000_000,
          ttl: parseTtl("3d"),
          pairs: Buffer.from('{"a":"b"}'),
          appendAtNs: 1_700_000_000_123_456_789n,
        });
        const record = encodeNeedleToBuffer(n, version);
        assert.equal(record.length, actualSize(n.size, version));
        assert.equal(record.length % 8, 0);
        const back = parseNeedle(record, version, n.size);
        assert.equal(back.cookie, n.cookie);
        assert.equal(back.keyHi, 1);
        assert.equal(back.keyLo, 0xfffffffe);
        assert.deepEqual(back.data, data);
        if (version === 1 || data.length === 0) continue;
        assert.equal(back.flags, flags);
        if (flags & FLAG_HAS_NAME) assert.equal(back.name.toString(), "file.txt");
        if (flags & FLAG_HAS_MIME) assert.equal(back.mime.toString(), "text/plain");
        if (flags & FLAG_HAS_LAST_MODIFIED) assert.equal(back.lastModified, 1_700_000_000);
        if (flags & FLAG_HAS_TTL) assert.deepEqual(back.ttl, parseTtl("3d"));
        if (flags & FLAG_HAS_PAIRS) assert.equal(back.pairs.toString(), '{"a":"b"}');
        if (version === 3) assert.equal(back.appendAtNs, 1_700_000_000_123_456_789n);
      }
    }
  }
});

test("names longer than 255 bytes are cut to 255, as weed writes them", () => {
  const n = newNeedle({
    keyLo: 1,
    data: Buffer.from("d"),
    flags: FLAG_HAS_NAME,
    name: Buffer.alloc(300, 0x61),
  });
  const back = parseNeedle(encodeNeedleToBuffer(n, 3), 3);
  assert.equal(back.name.length, 255);
});

test("a flipped data byte is a checksum error, never data", () => {
  const n = newNeedle({ keyLo: 9, cookie: 1, data: Buffer.from("hello world") });
  const record = encodeNeedleToBuffer(n, 3);
  record[16 + 4 + 3]! ^= 0x01;
  assert.throws(
    () => parseNeedle(record, 3),
    (e) => e instanceof NeedleError && e.kind === "crc",
  );
  assert.throws(
    () => parseNeedle(encodeNeedleToBuffer(n, 3), 3, 999),
    (e) => e instanceof NeedleError && e.kind === "size-mismatch",
  );
});

test("the records of needle--43.dat written by Go parse and re-encode byte for byte", () => {
  const dat = readFileSync(`${FIXTURES}/needle--43.dat`);
  const version = dat[0] as Version;
  let at = 8 + dat.readUInt16BE(6);
  let count = 0;
  while (at + 16 <= dat.length) {
    const size = dat.readInt32BE(at + 12);
    const length = actualSize(size, version);
    if (at + length > dat.length) break;
    const record = dat.subarray(at, at + length);
    const n = parseNeedle(record, version, size);
    // This file predates weed writing the plain CRC: it holds the masked form, which reads accept.
    const expected = Buffer.from(record);
    const crcAt = 16 + size;
    if (n.data.length > 0 && expected.readUInt32BE(crcAt) === maskedCrc(n.checksum))
      expected.writeUInt32BE(n.checksum, crcAt);
    assert.deepEqual(encodeNeedleToBuffer(n, version), expected, `record at ${at}`);
    at += length;
    count++;
  }
  assert.ok(count > 0);
});
