// SIGKILL during vacuum (compact + commit over gRPC while writes and deletes go on) and during a
// volume copy from a peer; a peer killed in the middle of a copy. After each restart every
// acknowledged write reads back byte for byte, acknowledged deletes stay deleted, and a copy either
// left no volume or a whole one; a retried copy completes.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  allocate,
  bodyOf,
  client,
  drain,
  fidOf,
  fileSetup,
  hostIp,
  put,
  readAll,
  restartable,
  retryWhileUnavailable,
  sha,
  unary,
  volumeStatus,
} from "./support.js";

const env = fileSetup("wv-rel-crash-");

async function verify(url: string, acknowledged: Map<string, string>, deleted: Set<string>, what: string) {
  const served = await readAll(url, acknowledged.keys());
  for (const [fid, hash] of acknowledged) {
    const got = served.get(fid);
    if (deleted.has(fid)) assert.equal(got?.status, 404, `${what}: deleted ${fid} came back`);
    else {
      assert.equal(got?.status, 200, `${what}: acknowledged ${fid} lost (${got?.status})`);
      assert.equal(got?.hash, hash, `${what}: ${fid} served torn or other bytes`);
    }
  }
}

test("acknowledged writes survive SIGKILL during vacuum, 8 rounds", async () => {
  const data = join(env.dir, "vac");
  mkdirSync(data);
  const server = await restartable(env.dir, data, env.master, "vacuum");
  let c = client(server.grpcAddress);
  await allocate(c, 41);
  const acknowledged = new Map<string, string>();
  const deleted = new Set<string>();
  let key = 1;
  for (let round = 0; round < 8; round++) {
    let stop = false;
    const writer = async () => {
      while (!stop) {
        const k = key++;
        const fid = fidOf(41, k);
        const body = bodyOf(k);
        try {
          if ((await put(server.url, fid, body)) === 201) acknowledged.set(fid, sha(body));
          else continue;
          if (k % 3 === 0) {
            const d = await fetch(`${server.url}/${fid}`, { method: "DELETE" });
            await d.arrayBuffer();
            if (d.status === 202) deleted.add(fid);
          }
        } catch {
          return;
        }
      }
    };
    const vacuumer = async () => {
      while (!stop) {
        try {
          await drain(c, "vacuumVolumeCompact", { volumeId: 41, preallocate: 0n });
          await unary(c, "vacuumVolumeCommit", { volumeId: 41 });
        } catch {
          if (stop) return;
        }
      }
    };
    const work = [writer(), writer(), vacuumer()];
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 400));
    server.proc.child.kill("SIGKILL");
    await server.proc.exited;
    stop = true;
    await Promise.all(work);
    c.close();
    await server.start();
    c = client(server.grpcAddress);
    await verify(server.url, acknowledged, deleted, `vacuum round ${round}`);
  }
  // The volume still vacuums cleanly after all that.
  await drain(c, "vacuumVolumeCompact", { volumeId: 41, preallocate: 0n });
  await unary(c, "vacuumVolumeCommit", { volumeId: 41 });
  await verify(server.url, acknowledged, deleted, "after a final vacuum");
  c.close();
  await server.proc.stop();
  assert.ok(acknowledged.size > 40, `only ${acknowledged.size} writes acknowledged`);
});

test("SIGKILL of the target or the source during VolumeCopy: no half volume, retry works", async () => {
  const srcData = join(env.dir, "copy-src");
  const dstData = join(env.dir, "copy-dst");
  mkdirSync(srcData);
  mkdirSync(dstData);
  const ip = hostIp();
  const source = await restartable(env.dir, srcData, env.master, "copy-src", [], ip);
  const target = await restartable(env.dir, dstData, env.master, "copy-dst", [], ip);
  let sc = client(source.grpcAddress);
  await allocate(sc, 42);
  const acknowledged = new Map<string, string>();
  for (let k = 1; k <= 600; k++) {
    const body = bodyOf(k);
    assert.equal(await put(source.url, fidOf(42, k), body), 201);
    acknowledged.set(fidOf(42, k), sha(body));
  }
  const none = new Set<string>();
  const copyReq = {
    volumeId: 42,
    collection: "",
    replication: "000",
    ttl: "",
    sourceDataNode: `${ip}:${source.port}.${source.grpcPort}`,
    diskType: "",
    ioBytePerSecond: 0n,
  };
  // Asked over gRPC: an HTTP read of a volume the server lacks is redirected or proxied to the source.
  const mounted = async (grpcAddress: string) => (await volumeStatus(grpcAddress, 42)) !== undefined;
  try {
    await copyRounds();
  } finally {
    sc.close();
    await source.proc.stop();
    await target.proc.stop();
  }
  async function copyRounds() {
    for (let round = 0; round < 6; round++) {
      const killSource = round % 2 === 1;
      const victim = killSource ? source : target;
      let tc = client(target.grpcAddress);
      const copy = drain(tc, "volumeCopy", copyReq).then(
        () => "done",
        (e: Error) => `failed: ${e.message}`,
      );
      await new Promise((r) => setTimeout(r, Math.random() * 120));
      victim.proc.child.kill("SIGKILL");
      await victim.proc.exited;
      const outcome = await copy;
      tc.close();
      await victim.start();
      if (killSource) {
        sc.close();
        sc = client(source.grpcAddress);
      }
      // Either no volume 42 on the target or a whole one.
      if (await mounted(target.grpcAddress))
        await verify(target.url, acknowledged, none, `round ${round} (${outcome})`);
      // Retry: drop what is there and copy again; it must complete and serve everything.
      tc = client(target.grpcAddress);
      await unary(tc, "volumeDelete", { volumeId: 42, onlyEmpty: false }).catch(() => undefined);
      assert.equal(
        await mounted(target.grpcAddress),
        false,
        `round ${round}: volume 42 still served after delete`,
      );
      await retryWhileUnavailable(() => drain(tc, "volumeCopy", copyReq));
      await verify(target.url, acknowledged, none, `round ${round} retry`);
      await unary(tc, "volumeDelete", { volumeId: 42, onlyEmpty: false });
      tc.close();
    }
  }
});
