import assert from "node:assert/strict";
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
  isChunkManifest,
  isCompressed,
  NeedleError,
  newNeedle,
  parseNeedle,
} from "../../src/storage/needle/needle.js";
import { actualSize, type Version } from "../../src/storage/types.js";
import { hex, keyHalves, unhex, vectors } from "./support.js";

interface NeedleVector {
  label: string;
  version: Version;
  cookie: number;
  id: string;
  data: string;
  flags: number;
  name: string;
  mime: string;
  lastModified: number;
  ttlCount: number;
  ttlUnit: number;
  pairs: string;
  appendAtNs: string;
  checksum: number;
  size: number;
  record: string;
}

const needles = vectors<NeedleVector[]>("needles.json");

function fromVector(v: NeedleVector) {
  const [keyHi, keyLo] = keyHalves(v.id);
  return newNeedle({
    cookie: v.cookie,
    keyHi,
    keyLo,
    data: unhex(v.data),
    flags: v.flags,
    name: unhex(v.name),
    mime: unhex(v.mime),
    lastModified: v.lastModified,
    ttl: { count: v.ttlCount, unit: v.ttlUnit },
    pairs: unhex(v.pairs),
    checksum: v.checksum,
    appendAtNs: BigInt(v.appendAtNs),
  });
}

test("flag bits are SeaweedFS's", () => {
  assert.deepEqual(
    [
      FLAG_COMPRESSED,
      FLAG_HAS_NAME,
      FLAG_HAS_MIME,
      FLAG_HAS_LAST_MODIFIED,
      FLAG_HAS_TTL,
      FLAG_HAS_PAIRS,
      FLAG_CHUNK_MANIFEST,
    ],
    [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x80],
  );
});

test("CRC-32C as Go stores it, and the legacy masked form", () => {
  // Known CRC-32C check value.
  assert.equal(needleCrc(Buffer.from("123456789")), 0xe3069283);
  assert.equal(needleCrc(Buffer.alloc(0)), 0);
  const hello = needles.find((v) => v.label === "plain")!;
  assert.equal(needleCrc(unhex(hello.data)), hello.checksum);
  const legacy = needles.find((v) => v.label === "masked legacy checksum")!;
  assert.equal(maskedCrc(needleCrc(unhex(legacy.data))), legacy.checksum);
  assert.equal(crcEtag(0x0a0b0c0d), "0a0b0c0d");
  // Incremental update gives the same value as one pass.
  const data = Buffer.from("hello, needle");
  assert.equal(needleCrc(data.subarray(5), needleCrc(data.subarray(0, 5))), needleCrc(data));
});

for (const v of needles) {
  // We never write the legacy masked checksum; reading it is tested below.
  const writable = v.label !== "masked legacy checksum";
  if (writable)
    test(`v${v.version} ${v.label}: written byte for byte as Go writes it`, () => {
      const n = fromVector(v);
      const bytes = encodeNeedleToBuffer(n, v.version);
      assert.equal(hex(bytes), v.record);
      assert.equal(n.size, v.size);
      assert.equal(bytes.length, actualSize(v.size, v.version));
    });

  test(`v${v.version} ${v.label}: parsed back`, () => {
    const record = unhex(v.record);
    const n = parseNeedle(record, v.version, v.size);
    const [keyHi, keyLo] = keyHalves(v.id);
    assert.equal(n.cookie, v.cookie);
    assert.equal(n.keyHi, keyHi);
    assert.equal(n.keyLo, keyLo);
    assert.equal(n.size, v.size);
    assert.equal(hex(n.data), v.data);
    if (v.version === 1) {
      assert.equal(n.flags, 0);
      return;
    }
    if (v.data === "") return; // no body: flags and metadata are not stored
    assert.equal(n.flags, v.flags);
    assert.equal(hex(n.name), v.name.slice(0, 255 * 2));
    assert.equal(hex(n.mime), v.mime);
    if (v.flags & FLAG_HAS_LAST_MODIFIED) assert.equal(n.lastModified, v.lastModified);
    if (v.flags & FLAG_HAS_TTL) assert.deepEqual(n.ttl, { count: v.ttlCount, unit: v.ttlUnit });
    assert.equal(hex(n.pairs), v.pairs);
    assert.equal(isCompressed(n), (v.flags & FLAG_COMPRESSED) !== 0);
    assert.equal(isChunkManifest(n), (v.flags & FLAG_CHUNK_MANIFEST) !== 0);
    if (v.version === 3) assert.equal(n.appendAtNs, BigInt(v.appendAtNs));
  });
}

test("a flipped data byte is a checksum error, never data", () => {
  for (const version of [1, 2, 3] as Version[]) {
    const v = needles.find((x) => x.version === version && x.label === "every flag")!;
    const record = unhex(v.record);
    record[16 + (version === 1 ? 0 : 4) + 10]! ^= 0x40;
    assert.throws(
      () => parseNeedle(record, version, v.size),
      (e: unknown) => e instanceof NeedleError && e.kind === "crc",
    );
  }
});

test("a size other than the index's is a size mismatch", () => {
  const v = needles.find((x) => x.version === 3 && x.label === "plain")!;
  assert.throws(
    () => parseNeedle(unhex(v.record), 3, v.size + 8),
    (e: unknown) => e instanceof NeedleError && e.kind === "size-mismatch",
  );
});

test("truncated and garbage records are corruption errors, not crashes", () => {
  const v = needles.find((x) => x.version === 3 && x.label === "every flag")!;
  const record = unhex(v.record);
  for (let cut = 0; cut < record.length - 8; cut += 3) {
    assert.throws(() => parseNeedle(record.subarray(0, cut), 3), NeedleError);
  }
  // A data size running past the body.
  const bad = Buffer.from(record);
  bad.writeUInt32BE(0x7fffffff, 16);
  assert.throws(() => parseNeedle(bad, 3, v.size), NeedleError);
  // A name length running past the body.
  const name = unhex(needles.find((x) => x.version === 2 && x.label === "name")!.record);
  name[16 + 4 + 5 + 1] = 200;
  assert.throws(
    () => parseNeedle(name, 2),
    (e: unknown) => e instanceof NeedleError && e.kind === "corrupted",
  );
  // Sizes 1 to 3 cannot hold the 4-byte data size of a v2/v3 body.
  const tiny = Buffer.alloc(actualSize(2, 3));
  tiny.writeInt32BE(2, 12);
  assert.throws(() => parseNeedle(tiny, 3, 2), NeedleError);
});

test("random bytes never crash the parser", () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.alloc(rand() % 80);
    for (let j = 0; j < buf.length; j++) buf[j] = rand() & 0xff;
    if (buf.length >= 16 && i % 2 === 0) buf.writeInt32BE(rand() % 64, 12);
    for (const version of [1, 2, 3] as Version[]) {
      try {
        parseNeedle(buf, version);
      } catch (err) {
        assert.ok(err instanceof NeedleError, String(err));
      }
    }
  }
});
