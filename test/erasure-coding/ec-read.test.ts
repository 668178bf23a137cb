// EC volumes served by our server: a volume is encoded (VolumeEcShardsGenerate), its shards mounted
// and the normal volume unmounted; every needle then reads back over HTTP, also with any 4 shards
// gone (rebuilt on the fly), deletes go to the .ecj, a rebuild restores the missing shards byte for
// byte, and decoding gives back a normal volume serving the same needles.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { credentials } from "@grpc/grpc-js";
import {
  VolumeEcShardsDeleteRequest,
  VolumeEcShardsRebuildRequest,
  VolumeEcShardsUnmountRequest,
  VolumeServerClient,
} from "../../src/pb/volume_server.js";
import { shardExt } from "../../src/storage/erasure-coding/layout.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

const VOLUME = 7;
let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let server: VolumeProc;
let client: VolumeServerClient;
let dataDir: string;
const needles: { fid: string; body: Buffer }[] = [];

// biome-ignore lint/suspicious/noExplicitAny: any unary method of the generated client
function call<T>(method: string, request: any): Promise<T> {
  return new Promise((resolve, reject) =>
    // biome-ignore lint/suspicious/noExplicitAny: dynamic method lookup
    (client as any)[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
  );
}

before(async () => {
  scratch = scratchDir("ec-read-");
  master = await startMaster(scratch.dir);
  dataDir = join(scratch.dir, "data");
  mkdirSync(dataDir);
  server = await startVolume("ours", scratch.dir, dataDir, master);
  client = new VolumeServerClient(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
  await call("allocateVolume", {
    volumeId: VOLUME,
    collection: "",
    preallocate: 0n,
    replication: "000",
    ttl: "",
    memoryMapMaxSizeMb: 0,
    diskType: "",
    version: 3,
  });
  // Sizes that make records cross the 1 MiB shard blocks.
  for (let i = 1; i <= 14; i++) {
    const body = randomBytes(1000 + ((i * 97_331) % 400_000));
    const fid = `${VOLUME},${i.toString(16)}0000abcd`;
    const r = await fetch(`${server.url}/${fid}`, {
      method: "POST",
      body,
      headers: { "Content-Type": "application/octet-stream" },
    });
    assert.equal(r.status, 201, await r.text());
    needles.push({ fid, body });
  }
  await call("volumeEcShardsGenerate", { volumeId: VOLUME, collection: "" });
  await call("volumeEcShardsMount", {
    volumeId: VOLUME,
    collection: "",
    shardIds: Array.from({ length: 14 }, (_, i) => i),
  });
  await call("volumeUnmount", { volumeId: VOLUME });
});

after(async () => {
  client?.close();
  await server?.proc.stop();
  await master?.proc.stop();
  scratch?.cleanup();
});

async function assertAllReadable(skip = new Set<string>()): Promise<void> {
  for (const { fid, body } of needles) {
    if (skip.has(fid)) continue;
    const r = await fetch(`${server.url}/${fid}`);
    const got = Buffer.from(await r.arrayBuffer());
    assert.equal(r.status, 200, `${fid}`);
    assert.ok(got.equals(body), `${fid} content`);
  }
}

test("every needle of an EC volume reads back over HTTP", async () => {
  await assertAllReadable();
});

test("with 4 shards gone every needle is rebuilt on the fly; a rebuild restores them byte for byte", async () => {
  const gone = [0, 3, 7, 12];
  const base = join(dataDir, String(VOLUME));
  const original = gone.map((s) => readFileSync(base + shardExt(s)));
  await call(
    "volumeEcShardsUnmount",
    VolumeEcShardsUnmountRequest.create({ volumeId: VOLUME, shardIds: gone }),
  );
  await call(
    "volumeEcShardsDelete",
    VolumeEcShardsDeleteRequest.create({ volumeId: VOLUME, shardIds: gone }),
  );
  for (const s of gone) assert.throws(() => readFileSync(base + shardExt(s)));
  await assertAllReadable();
  const rebuilt = await call<{ rebuiltShardIds: number[] }>(
    "volumeEcShardsRebuild",
    VolumeEcShardsRebuildRequest.create({ volumeId: VOLUME }),
  );
  assert.deepEqual(
    [...rebuilt.rebuiltShardIds].sort((a, b) => a - b),
    gone,
  );
  for (const [i, s] of gone.entries()) {
    assert.ok(readFileSync(base + shardExt(s)).equals(original[i]!), `shard ${s}`);
  }
  await call("volumeEcShardsMount", { volumeId: VOLUME, collection: "", shardIds: gone });
});

test("a delete on an EC volume is journalled; decoding gives a normal volume without it", async () => {
  const victim = needles[2]!;
  const d = await fetch(`${server.url}/${victim.fid}`, { method: "DELETE" });
  assert.equal(d.status, 202, await d.text());
  assert.equal((await fetch(`${server.url}/${victim.fid}`)).status, 404);
  assert.equal(readFileSync(join(dataDir, `${VOLUME}.ecj`)).length, 8);
  rmSync(join(dataDir, `${VOLUME}.dat`));
  rmSync(join(dataDir, `${VOLUME}.idx`));
  await call("volumeEcShardsToVolume", { volumeId: VOLUME, collection: "" });
  await call(
    "volumeEcShardsUnmount",
    VolumeEcShardsUnmountRequest.create({
      volumeId: VOLUME,
      shardIds: Array.from({ length: 14 }, (_, i) => i),
    }),
  );
  await assertAllReadable(new Set([victim.fid]));
  assert.equal((await fetch(`${server.url}/${victim.fid}`)).status, 404);
});
