// fast-check properties of the on-disk format parsers (issue 11): needle records of every version,
// .idx entries, the needle map built from an .idx image, the super block and the .vif. Any input
// gives an answer or the parser's own error; what an encoder writes parses back to the same thing.
// FUZZ_RUNS=N runs each property N times (200 by default).

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { forEachIndexEntry, readIndexEntry, writeIndexEntry } from "../../src/storage/index/idx.js";
import { MemoryNeedleMap } from "../../src/storage/index/needle-map.js";
import type { NeedleValue } from "../../src/storage/index/needle-mapper.js";
import {
  encodeNeedleToBuffer,
  FLAG_HAS_LAST_MODIFIED,
  FLAG_HAS_MIME,
  FLAG_HAS_NAME,
  FLAG_HAS_PAIRS,
  FLAG_HAS_TTL,
  type Needle,
  NeedleError,
  newNeedle,
  parseNeedle,
} from "../../src/storage/needle/needle.js";
import { indexEntrySize, type OffsetWidth, type Version } from "../../src/storage/types.js";
import { decodeSuperBlock, encodeSuperBlock, SuperBlockError } from "../../src/storage/volume/super-block.js";
import {
  formatVolumeInfo,
  parseVolumeInfo,
  type VolumeInfo,
  VolumeInfoError,
} from "../../src/storage/volume/volume-info.js";
import { onlyOwnErrors, RUNS, record } from "./parser-properties.js";

const version = fc.constantFrom<Version>(1, 2, 3);
const width = fc.constantFrom<OffsetWidth>(4, 5);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

const needleArb = record({
  cookie: u32,
  keyHi: u32,
  keyLo: u32,
  data: bytes(300),
  flags: fc.integer({ min: 0, max: 0xff }),
  name: bytes(300),
  mime: bytes(300),
  lastModified: fc.integer({ min: 0, max: 2 ** 40 - 1 }),
  ttl: record({ count: fc.integer({ min: 0, max: 255 }), unit: fc.integer({ min: 0, max: 255 }) }),
  pairs: bytes(400),
  checksum: u32,
  appendAtNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
});

/** What a parse of the encoded needle must give back: only what the version stores. */
function expectedAfterRoundTrip(n: Needle, v: Version): Partial<Needle> {
  const stored = (flag: number, value: Buffer) => (n.flags & flag ? value : Buffer.alloc(0));
  const withData = v === 1 || n.data.length > 0;
  return {
    cookie: n.cookie,
    keyHi: n.keyHi,
    keyLo: n.keyLo,
    data: n.data,
    flags: v === 1 || !withData ? 0 : n.flags,
    name: v === 1 || !withData ? Buffer.alloc(0) : stored(FLAG_HAS_NAME, n.name.subarray(0, 255)),
    mime: v === 1 || !withData ? Buffer.alloc(0) : stored(FLAG_HAS_MIME, n.mime),
    lastModified: v !== 1 && withData && n.flags & FLAG_HAS_LAST_MODIFIED ? n.lastModified : 0,
    pairs: v === 1 || !withData ? Buffer.alloc(0) : stored(FLAG_HAS_PAIRS, n.pairs),
    appendAtNs: v === 3 ? n.appendAtNs : 0n,
  };
}

test("needle: what encodeNeedle writes parses back, for every version", () => {
  fc.assert(
    fc.property(needleArb, version, (fields, v) => {
      const n = newNeedle(fields);
      const record = onlyOwnErrors(() => encodeNeedleToBuffer(n, v), [NeedleError]);
      if (!record) return; // refused (a mime over 255 bytes): nothing written
      const back = parseNeedle(record, v, n.size);
      const want = expectedAfterRoundTrip(fields as Needle, v);
      for (const [k, value] of Object.entries(want)) assert.deepEqual(back[k as keyof Needle], value, k);
      if (v !== 1 && n.data.length > 0 && n.flags & FLAG_HAS_TTL) {
        const empty = fields.ttl.count === 0 && fields.ttl.unit === 0;
        assert.deepEqual(back.ttl, empty ? { count: 0, unit: 0 } : fields.ttl);
      }
      assert.equal(back.checksum, n.checksum);
    }),
    { numRuns: RUNS },
  );
});

test("needle: random, truncated and bit-flipped records give a needle or a NeedleError", () => {
  const mutated = fc.tuple(needleArb, version).chain(([fields, v]) => {
    const n = newNeedle({ ...fields, mime: fields.mime.subarray(0, 255) });
    const encoded = encodeNeedleToBuffer(n, v);
    return record({
      v: fc.constant(v),
      size: fc.option(fc.integer({ min: -2, max: encoded.length + 8 }), { nil: undefined }),
      buf: fc.oneof(
        bytes(64),
        fc.integer({ min: 0, max: encoded.length }).map((cut) => encoded.subarray(0, cut)),
        fc
          .array(fc.tuple(fc.nat(encoded.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 4 })
          .map((flips) => {
            const copy = Buffer.from(encoded);
            for (const [at, x] of flips) copy[at]! ^= x;
            return copy;
          }),
      ),
    });
  });
  fc.assert(
    fc.property(mutated, ({ v, size, buf }) => {
      onlyOwnErrors(() => parseNeedle(buf, v, size), [NeedleError]);
    }),
    { numRuns: RUNS },
  );
});

test(".idx entries: written entries read back; any image is walked whole entry by whole entry", () => {
  const entry = record({
    keyHi: u32,
    keyLo: u32,
    offset: fc.integer({ min: 0, max: 2 ** 40 - 1 }),
    size: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  });
  fc.assert(
    fc.property(width, fc.array(entry, { maxLength: 20 }), bytes(100), (w, entries, junk) => {
      const size = indexEntrySize(w);
      const buf = Buffer.alloc(entries.length * size);
      entries.forEach((e, i) => {
        writeIndexEntry(buf, i * size, w, e.keyHi, e.keyLo, e.offset, e.size);
      });
      entries.forEach((e, i) => {
        const back = readIndexEntry(buf, i * size, w, { keyHi: 0, keyLo: 0, offset: 0, size: 0 });
        assert.deepEqual(back, { ...e, offset: w === 4 ? e.offset % 2 ** 32 : e.offset });
      });
      let visited = 0;
      forEachIndexEntry(junk, w, () => visited++);
      assert.equal(visited, Math.floor(junk.length / size));
    }),
    { numRuns: RUNS },
  );
});

/** weed's loader in a few lines: the map and counters an .idx image must give. */
function modelOf(image: Buffer, w: OffsetWidth) {
  const entries = new Map<string, number[]>();
  const stats = { fileCount: 0, deletedCount: 0, fileBytes: 0, deletedBytes: 0 };
  forEachIndexEntry(image, w, (e) => {
    const key = `${e.keyHi}:${e.keyLo}`;
    const old = entries.get(key);
    if (e.offset !== 0 && e.size >= 0) {
      entries.set(key, [e.offset, e.size]);
      stats.fileCount++;
      stats.fileBytes += e.size;
      if (old && old[1]! > 0) {
        stats.deletedCount++;
        stats.deletedBytes += old[1]!;
      }
    } else if (old && old[1]! >= 0) {
      if (old[1]! > 0) {
        stats.deletedCount++;
        stats.deletedBytes += old[1]!;
      }
      old[1] = old[1] === 0 ? -1 : -old[1]!;
    }
  });
  return { entries, stats };
}

test("needle map: loading any .idx image gives weed's entries and counters", () => {
  // Few distinct keys so that entries overwrite and delete each other; long out-of-order runs
  // take the sorting loader.
  const image = width.chain((w) =>
    record({
      w: fc.constant(w),
      image: fc.oneof(
        bytes(200),
        fc
          .array(
            record({
              keyHi: fc.integer({ min: 0, max: 2 }),
              keyLo: fc.integer({ min: 0, max: 3000 }),
              offset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 32 - 1 })),
              size: fc.oneof(fc.constant(-1), fc.constant(0), fc.integer({ min: -100, max: 1 << 20 })),
            }),
            // "max": lengths over the whole range, so that some images bring more than 2048 keys
            // out of order (the sorting loader).
            { maxLength: 3000, size: "max" },
          )
          .map((es) => {
            const size = indexEntrySize(w);
            const buf = Buffer.alloc(es.length * size);
            es.forEach((e, i) => {
              writeIndexEntry(buf, i * size, w, e.keyHi, e.keyLo, e.offset, e.size);
            });
            return buf;
          }),
      ),
    }),
  );
  fc.assert(
    fc.property(image, version, ({ w, image }, v) => {
      const map = MemoryNeedleMap.fromIndex(image, w, v);
      const model = modelOf(image, w);
      assert.equal(map.size, model.entries.size);
      const out: NeedleValue = { offset: 0, size: 0 };
      for (const [key, [offset, size]] of model.entries) {
        const [hi, lo] = key.split(":").map(Number) as [number, number];
        assert.ok(map.get(hi, lo, out), `key ${key} missing`);
        assert.deepEqual([out.offset, out.size], [offset, size], `key ${key}`);
      }
      const { fileCount, deletedCount, fileBytes, deletedBytes } = map.stats;
      assert.deepEqual({ fileCount, deletedCount, fileBytes, deletedBytes }, model.stats);
    }),
    { numRuns: Math.max(20, Math.floor(RUNS / 4)) },
  );
});

test("super block: any bytes decode or give a SuperBlockError; encoded blocks decode back", () => {
  const raw = record({ header: bytes(12), extra: bytes(40) });
  fc.assert(
    fc.property(raw, ({ header, extra }) => {
      const sb = onlyOwnErrors(
        () => decodeSuperBlock(header, (n) => extra.subarray(0, n)),
        [SuperBlockError],
      );
      if (sb) assert.deepEqual(encodeSuperBlock(sb), Buffer.concat([header.subarray(0, 8), sb.extra]));
    }),
    { numRuns: RUNS },
  );
  // A well-formed extra: varint-keyed length-delimited fields (as SuperBlockExtra's message).
  const extra = fc
    .array(fc.tuple(fc.integer({ min: 1, max: 15 }), bytes(20)), { maxLength: 3 })
    .map((fields) =>
      Buffer.concat(fields.map(([f, b]) => Buffer.concat([Buffer.from([(f << 3) | 2, b.length]), b]))),
    );
  const block = record({
    version,
    placement: fc.integer({ min: 0, max: 255 }),
    ttl: record({ count: fc.integer({ min: 1, max: 255 }), unit: fc.integer({ min: 0, max: 255 }) }),
    compactionRevision: fc.integer({ min: 0, max: 0xffff }),
    extra,
  });
  fc.assert(
    fc.property(block, (b) => {
      const sb = {
        version: b.version,
        replicaPlacement: {
          diffDataCenterCount: Math.floor(b.placement / 100),
          diffRackCount: Math.floor(b.placement / 10) % 10,
          sameRackCount: b.placement % 10,
        },
        ttl: b.ttl,
        compactionRevision: b.compactionRevision,
        extra: b.extra,
      };
      const buf = encodeSuperBlock(sb);
      assert.deepEqual(
        decodeSuperBlock(buf.subarray(0, 8), (n) => buf.subarray(8, 8 + n)),
        sb,
      );
    }),
    { numRuns: RUNS },
  );
});

test(".vif: any text parses or gives a VolumeInfoError; what we write parses back", () => {
  const text = fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    // Objects with the real field names and values of any JSON type.
    fc
      .dictionary(
        fc.constantFrom(
          "files",
          "version",
          "replication",
          "bytesOffset",
          "BytesOffset",
          "datFileSize",
          "expireAtSec",
          "DestroyTime",
          "readOnly",
          "ecShardConfig",
          "readOnlyCanDelete",
        ),
        fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 3 })),
      )
      .map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(text, (t) => {
      onlyOwnErrors(() => parseVolumeInfo(t), [VolumeInfoError]);
    }),
    { numRuns: RUNS },
  );
  const safe = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
  const info: fc.Arbitrary<VolumeInfo> = record({
    files: fc.array(
      record({
        backendType: fc.string(),
        backendId: fc.string(),
        key: fc.string(),
        offset: safe,
        fileSize: safe,
        modifiedTime: safe,
        extension: fc.string(),
      }),
      { maxLength: 2 },
    ),
    version: fc.integer({ min: 0, max: 3 }),
    replication: fc.string(),
    bytesOffset: fc.constantFrom(0, 4, 5),
    datFileSize: safe,
    expireAtSec: safe,
    readOnly: fc.boolean(),
    ecShardConfig: fc.option(
      record({
        dataShards: fc.integer({ min: 0, max: 32 }),
        parityShards: fc.integer({ min: 0, max: 32 }),
        encodeTsNs: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        blockSize: safe,
      }),
      { nil: null },
    ),
    readOnlyCanDelete: fc.boolean(),
  });
  fc.assert(
    fc.property(info, (i) => {
      assert.deepEqual(parseVolumeInfo(formatVolumeInfo(i)), i);
    }),
    { numRuns: RUNS },
  );
});
