// Our EC shards are weed's: the real Go `weed volume` encodes a fixture volume over gRPC
// (VolumeEcShardsGenerate), our encoder and our server encode copies of the same .dat/.idx, and every
// .ec00–.ec13 and the .ecx must match byte for byte (the .ecsum and .vif but for the run's id/time).

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { credentials } from "@grpc/grpc-js";
import { VolumeServerClient } from "../../src/pb/volume_server.js";
import { loadSidecar, writeSidecar } from "../../src/storage/erasure-coding/bitrot.js";
import { encodeShardFiles } from "../../src/storage/erasure-coding/encoder.js";
import { shardExt, uniformBlockSize } from "../../src/storage/erasure-coding/layout.js";
import { writeSortedIndex } from "../../src/storage/erasure-coding/sorted-index.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

const FIXTURE = "/work/shared/fixtures/seaweedfs-go/erasure_coding--1";
const FILES = [...Array.from({ length: 14 }, (_, i) => shardExt(i)), ".ecx"];

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
const servers: VolumeProc[] = [];

function placeFixture(dir: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(`${FIXTURE}.dat`, join(dir, "1.dat"));
  copyFileSync(`${FIXTURE}.idx`, join(dir, "1.idx"));
  return join(dir, "1");
}

function generate(server: VolumeProc): Promise<void> {
  const client = new VolumeServerClient(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
  return new Promise<void>((resolve, reject) =>
    client.volumeEcShardsGenerate({ volumeId: 1, collection: "" }, (err) => {
      client.close();
      if (err) reject(err);
      else resolve();
    }),
  );
}

function assertSameFiles(ours: string, go: string): void {
  for (const ext of FILES) {
    const a = readFileSync(ours + ext);
    const b = readFileSync(go + ext);
    assert.equal(a.length, b.length, `${ext} length`);
    assert.ok(a.equals(b), `${ext} differs`);
  }
  // The checksum sidecar matches but for the random id of the encode run.
  const a = loadSidecar(`${ours}.ecsum`)!;
  const b = loadSidecar(`${go}.ecsum`)!;
  assert.equal(a.encodeUuid.length, 16);
  assert.deepEqual({ ...a, encodeUuid: undefined }, { ...b, encodeUuid: undefined });
}

let goBase: string;

before(async () => {
  scratch = scratchDir("ec-encode-go-");
  master = await startMaster(scratch.dir);
  goBase = placeFixture(join(scratch.dir, "go"));
  const go = await startVolume("go", scratch.dir, join(scratch.dir, "go"), master);
  servers.push(go);
  await generate(go);
});

after(async () => {
  for (const s of servers) await s.proc.stop();
  await master?.proc.stop();
  scratch?.cleanup();
});

test("the encoder writes weed's shards and .ecx for the same .dat/.idx", async () => {
  const base = placeFixture(join(scratch.dir, "direct"));
  writeSortedIndex(base, 4);
  const result = await encodeShardFiles({ dataBase: base, dataShards: 10, parityShards: 4 });
  writeSidecar(base, { dataShards: 10, parityShards: 4, blockSize: result.blockSize }, result.checksums);
  assert.equal(result.blockSize, uniformBlockSize(readFileSync(`${FIXTURE}.dat`).length, 10));
  assertSameFiles(base, goBase);
});

test("our VolumeEcShardsGenerate writes weed's shards, .ecx and EC geometry in the .vif", async () => {
  const dir = join(scratch.dir, "ours");
  const base = placeFixture(dir);
  const ours = await startVolume("ours", scratch.dir, dir, master);
  servers.push(ours);
  await generate(ours);
  assertSameFiles(base, goBase);
  const vif = JSON.parse(readFileSync(`${base}.vif`, "utf8"));
  const goVif = JSON.parse(readFileSync(`${goBase}.vif`, "utf8"));
  assert.deepEqual(
    { ...vif, ecShardConfig: { ...vif.ecShardConfig, encodeTsNs: "" } },
    { ...goVif, ecShardConfig: { ...goVif.ecShardConfig, encodeTsNs: "" } },
  );
});
