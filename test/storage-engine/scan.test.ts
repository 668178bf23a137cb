// Finding where a follower resumes: by append time, by a backup's last index entry (with its hash
// of the index prefix), and how far the index covers the .dat.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { newNeedle } from "../../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../../src/storage/needle/ttl.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import {
  appendAtNsAt,
  datSizeCoveredByIndex,
  firstOffsetAfter,
  hashIndexEntries,
  IncrementalCopyDiverged,
  records,
  resumeByLastEntry,
} from "../../src/storage/volume/scan.js";
import { superBlockSize } from "../../src/storage/volume/super-block.js";
import { createVolume } from "../../src/storage/volume/volume-load.js";

const scratch = mkdtempSync(join(tmpdir(), "wv-scan-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function volumeWith(count: number, width: 4 | 5 = 4) {
  const dir = mkdtempSync(join(scratch, "v-"));
  const v = createVolume(
    { dir, idxDir: dir, collection: "", id: 9 },
    { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width },
  );
  const offsets: number[] = [];
  for (let i = 1; i <= count; i++) {
    offsets.push(v.write(newNeedle({ keyLo: i, cookie: 0x100 + i, data: Buffer.alloc(10 * i, i) })).offset);
  }
  return { v, offsets };
}

/** FNV-1a 64 the slow, obvious way. */
function fnv1a64(bytes: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

test("records walk the .dat in append order, tombstones included", () => {
  const { v, offsets } = volumeWith(5);
  v.delete(0, 2, 0x102);
  const seen = [...records(v)];
  assert.equal(seen.length, 6);
  assert.deepEqual(
    seen.slice(0, 5).map((r) => r.offset),
    offsets,
  );
  assert.equal(seen[0]!.offset, superBlockSize(v.superBlock));
  assert.equal(seen[5]!.keyLo, 2);
  assert.equal(seen[5]!.size, 0);
  v.close();
});

test("firstOffsetAfter finds the first record appended after a time, or nothing", () => {
  const { v, offsets } = volumeWith(20);
  for (let i = 0; i < offsets.length; i++) {
    const ns = appendAtNsAt(v, offsets[i]!);
    assert.equal(firstOffsetAfter(v, ns), offsets[i + 1]);
    assert.equal(firstOffsetAfter(v, ns - 1n), offsets[i]);
  }
  assert.equal(firstOffsetAfter(v, 0n), offsets[0]);
  v.close();
});

test("a backup that holds a prefix of the index resumes at the next record", () => {
  for (const width of [4, 5] as const) {
    const { v, offsets } = volumeWith(10, width);
    const entry = 8 + width + 4;
    const count = 6;
    const hash = fnv1a64(
      Buffer.concat(
        Array.from({ length: count }, (_, i) => {
          const row = v.readIndex(i * entry, entry);
          return Buffer.concat([row.subarray(0, 8), row.subarray(8 + width)]);
        }),
      ),
    );
    assert.equal(hashIndexEntries(v, count), hash);
    const sizeAt = (i: number) => v.readIndex(i * entry, entry).readInt32BE(8 + width);
    const last = { entryCount: count, keyHi: 0, keyLo: 6, cookie: 0x106, size: sizeAt(5), hash };
    assert.deepEqual(resumeByLastEntry(v, last, v.indexSize), { offset: offsets[6], upToDate: false });
    const all = {
      entryCount: 10,
      keyHi: 0,
      keyLo: 10,
      cookie: 0x10a,
      size: sizeAt(9),
      hash: hashIndexEntries(v, 10),
    };
    assert.deepEqual(resumeByLastEntry(v, all, v.indexSize), { offset: 0, upToDate: true });
    assert.throws(() => resumeByLastEntry(v, { ...last, cookie: 1 }, v.indexSize), IncrementalCopyDiverged);
    assert.throws(
      () => resumeByLastEntry(v, { ...last, hash: hash ^ 1n }, v.indexSize),
      IncrementalCopyDiverged,
    );
    assert.throws(
      () => resumeByLastEntry(v, { ...last, entryCount: 11 }, v.indexSize),
      IncrementalCopyDiverged,
    );
    v.close();
  }
});

test("the index covers the .dat up to the end of its highest record", () => {
  const { v } = volumeWith(4);
  assert.equal(datSizeCoveredByIndex(v, v.indexSize), v.datSize);
  assert.equal(datSizeCoveredByIndex(v, 0), superBlockSize(v.superBlock));
  v.close();
});
