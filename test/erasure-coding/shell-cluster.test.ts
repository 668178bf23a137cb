// The real weed shell drives erasure coding on a mixed cluster (two of our servers and a Go one):
// ec.encode spreads a volume's shards over all three and ec.balance keeps them readable, every needle
// reads back from any server, also with 4 shards gone; ec.rebuild restores them; ec.decode makes it
// a normal volume again.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { credentials } from "@grpc/grpc-js";
import {
  VolumeEcShardsDeleteRequest,
  VolumeEcShardsUnmountRequest,
  VolumeServerClient,
} from "../../src/pb/volume_server.js";
import {
  type Master,
  scratchDir,
  startMaster,
  startVolume,
  type VolumeProc,
  weedBinary,
} from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
const servers: { proc: VolumeProc; dir: string }[] = [];
const files: { fid: string; body: Buffer }[] = [];
let volumeId = 0;

function shell(commands: string): string {
  return execFileSync(weedBinary(), ["shell", `-master=127.0.0.1:${master.port}.${master.grpcPort}`], {
    input: `lock\n${commands}\nunlock\n`,
    encoding: "utf8",
    cwd: scratch.dir,
    timeout: 120_000,
  });
}

function shardFiles(): { server: number; path: string }[] {
  const out: { server: number; path: string }[] = [];
  for (const [server, { dir }] of servers.entries()) {
    for (const name of readdirSync(dir)) {
      if (new RegExp(`^${volumeId}\\.ec[0-9]{2}$`).test(name)) out.push({ server, path: join(dir, name) });
    }
  }
  return out;
}

async function assertAllReadable(): Promise<void> {
  for (const { proc } of servers) {
    for (const { fid, body } of files) {
      const r = await fetch(`${proc.url}/${fid}`, { redirect: "follow" });
      const got = Buffer.from(await r.arrayBuffer());
      assert.equal(r.status, 200, `${fid} from ${proc.url}: ${got.toString().slice(0, 300)}`);
      assert.ok(got.equals(body), `${fid} from ${proc.url}: content`);
    }
  }
}

before(async () => {
  scratch = scratchDir("ec-shell-");
  master = await startMaster(scratch.dir);
  for (const kind of ["ours", "go", "ours"] as const) {
    const dir = join(scratch.dir, `data-${servers.length}`);
    mkdirSync(dir);
    servers.push({
      proc: await startVolume(kind, scratch.dir, dir, master, ["-volume.allowUntrustedRemoteEndpoints"]),
      dir,
    });
  }
  // Every server heartbeats before the first assign.
  await new Promise((r) => setTimeout(r, 1500));
  // Assigns spread over the volumes the master grew; keep those landing in the first one.
  for (let i = 0; i < 400 && files.length < 16; i++) {
    const a = (await (await fetch(`${master.url}/dir/assign`)).json()) as { fid: string; url: string };
    if (volumeId === 0) volumeId = Number(a.fid.split(",")[0]);
    if (Number(a.fid.split(",")[0]) !== volumeId) continue;
    const body = randomBytes(500 + ((i * 48_271) % 300_000));
    const form = new FormData();
    form.append("file", new Blob([body]), `f${i}.bin`);
    const r = await fetch(`http://${a.url}/${a.fid}`, { method: "POST", body: form });
    assert.equal(r.status, 201, await r.text());
    files.push({ fid: a.fid, body });
  }
  assert.equal(files.length, 16);
});

after(async () => {
  for (const { proc } of servers) await proc.proc.stop();
  await master?.proc.stop();
  if (!process.env.KEEP) scratch?.cleanup();
  else console.log(scratch.dir);
});

test("ec.encode spreads the shards over the cluster and every needle reads back", async () => {
  const out = shell(`ec.encode -volumeId=${volumeId} -force`);
  assert.doesNotMatch(out, /error|failed/i, out);
  assert.equal(shardFiles().length, 14, out);
  assert.ok(new Set(shardFiles().map((s) => s.server)).size >= 2, "shards on several servers");
  const balanced = shell("ec.balance -apply");
  assert.doesNotMatch(balanced, /error|failed/i, balanced);
  assert.equal(shardFiles().length, 14, balanced);
  await assertAllReadable();
});

test("with 4 shards unmounted and deleted every needle is rebuilt on reads; ec.rebuild restores them", async () => {
  const victims = shardFiles().slice(0, 4);
  for (const v of victims) {
    const shard = Number(v.path.slice(-2));
    const { proc } = servers[v.server]!;
    const client = new VolumeServerClient(`127.0.0.1:${proc.grpcPort}`, credentials.createInsecure());
    const unary = (method: "volumeEcShardsUnmount" | "volumeEcShardsDelete", request: object) =>
      new Promise<void>((resolve, reject) =>
        // biome-ignore lint/suspicious/noExplicitAny: two request types of one shape
        (client[method] as any)(request, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    await unary(
      "volumeEcShardsUnmount",
      VolumeEcShardsUnmountRequest.create({ volumeId, shardIds: [shard] }),
    );
    await unary("volumeEcShardsDelete", VolumeEcShardsDeleteRequest.create({ volumeId, shardIds: [shard] }));
    client.close();
  }
  assert.equal(shardFiles().length, 10);
  // The master hears of the unmounts with the next beats.
  await new Promise((r) => setTimeout(r, 1000));
  await assertAllReadable();
  const out = shell("ec.rebuild -apply");
  assert.doesNotMatch(out, /error|failed/i, out);
  assert.equal(shardFiles().length, 14, out);
  await assertAllReadable();
});

test("ec.decode turns the EC volume back into a normal volume", async () => {
  const out = shell(`ec.decode -volumeId=${volumeId}`);
  assert.doesNotMatch(out, /error|failed/i, out);
  assert.equal(shardFiles().length, 0, out);
  // The decoded volume is announced with the holder's next beat; servers asked meanwhile find it
  // nowhere yet.
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await assertAllReadable();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
});
