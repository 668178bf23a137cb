import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTtl } from "../../src/storage/needle/ttl.js";
import {
  copyCount,
  formatReplicaPlacement,
  parseReplicaPlacement,
  ReplicaPlacementError,
  replicaPlacementByte,
  replicaPlacementFromByte,
} from "../../src/storage/volume/replica-placement.js";
import { decodeSuperBlock, encodeSuperBlock, superBlockSize } from "../../src/storage/volume/super-block.js";
import { hex, unhex, vectors } from "./support.js";

interface PlacementVector {
  input: string;
  byte: number;
  string: string;
  copies: number;
  error: string;
}

interface SuperBlockVector {
  label: string;
  version: 1 | 2 | 3;
  replication: string;
  ttl: string;
  compactionRevision: number;
  bytes: string;
  blockSize: number;
}

for (const v of vectors<PlacementVector[]>("replica-placement.json")) {
  test(`replica placement ${JSON.stringify(v.input)} as Go reads it`, () => {
    if (v.error) {
      assert.throws(
        () => parseReplicaPlacement(v.input),
        (e: unknown) => e instanceof ReplicaPlacementError && e.message === v.error,
      );
      return;
    }
    const rp = parseReplicaPlacement(v.input);
    assert.equal(replicaPlacementByte(rp), v.byte);
    assert.equal(formatReplicaPlacement(rp), v.string);
    assert.equal(copyCount(rp), v.copies);
  });
}

test("every placement byte round-trips through its string", () => {
  for (let b = 0; b < 256; b++) {
    const rp = replicaPlacementFromByte(b);
    assert.equal(replicaPlacementByte(rp), b);
    assert.equal(replicaPlacementByte(parseReplicaPlacement(formatReplicaPlacement(rp))), b);
  }
});

for (const v of vectors<SuperBlockVector[]>("super-blocks.json")) {
  test(`super block ${v.label}: bytes as Go writes them, and read back`, () => {
    const bytes = unhex(v.bytes);
    const sb = decodeSuperBlock(bytes.subarray(0, 8), (n) => bytes.subarray(8, 8 + n));
    assert.equal(sb.version, v.version);
    assert.equal(formatReplicaPlacement(sb.replicaPlacement), v.replication);
    assert.deepEqual(sb.ttl, parseTtl(v.ttl));
    assert.equal(sb.compactionRevision, v.compactionRevision);
    assert.equal(superBlockSize(sb), v.blockSize);
    assert.equal(hex(encodeSuperBlock(sb)), v.bytes);
  });
}

test("bad super blocks are errors", () => {
  assert.throws(() => decodeSuperBlock(Buffer.alloc(5), () => Buffer.alloc(0)), /unexpected EOF/);
  assert.throws(() => decodeSuperBlock(unhex("0400000000000000"), () => Buffer.alloc(0)), /version 4/);
  assert.throws(() => decodeSuperBlock(unhex("0000000000000000"), () => Buffer.alloc(0)), /version 0/);
  // Extra announced but missing.
  assert.throws(() => decodeSuperBlock(unhex("0300000000000010"), () => Buffer.alloc(3)), /extra/);
  // Extra that is not protobuf.
  assert.throws(() => decodeSuperBlock(unhex("0300000000000002"), () => unhex("ffff")), /extra/);
});
