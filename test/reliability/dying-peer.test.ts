// A peer dying in the middle of a pull: VolumeTailReceiver following a source that is SIGKILLed,
// and VolumeEcShardsCopy from a source that is SIGKILLed. The pull fails as a gRPC error, the
// puller keeps serving, what it kept is whole (no torn needle, no partial shard file), and a retry
// against the restarted source completes.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  allocate,
  client,
  fidOf,
  fileSetup,
  hostIp,
  put,
  type Restartable,
  readAll,
  restartable,
  retryWhileUnavailable,
  sha,
  unary,
} from "./support.js";

const env = fileSetup("wv-rel-peer-");
const NEEDLES = 300;

/** 30..70 KB bodies: about 15 MiB in all, so a pull takes a while to interrupt. */
const bigBody = (k: number) => Buffer.alloc(30_000 + ((k * 7919) % 40_000), k % 251);

/** Two of our servers on this host's address (pull sources may not be loopback). */
async function pair(name: string): Promise<{ source: Restartable; target: Restartable; address: string }> {
  const ip = hostIp();
  const dirs = [`${name}-src`, `${name}-dst`].map((d) => join(env.dir, d));
  for (const d of dirs) mkdirSync(d);
  const source = await restartable(env.dir, dirs[0]!, env.master, `${name}-src`, [], ip);
  const target = await restartable(env.dir, dirs[1]!, env.master, `${name}-dst`, [], ip);
  return { source, target, address: `${ip}:${source.port}.${source.grpcPort}` };
}

/** Writes the needles to the source, every 7th deleted again; the expected state by fid. */
async function populate(source: Restartable, vid: number): Promise<Map<string, string | undefined>> {
  const c = client(source.grpcAddress);
  await allocate(c, vid);
  c.close();
  const expected = new Map<string, string | undefined>();
  for (let k = 1; k <= NEEDLES; k++) {
    const body = bigBody(k);
    assert.equal(await put(source.url, fidOf(vid, k), body), 201);
    expected.set(fidOf(vid, k), sha(body));
    if (k % 7 === 0) {
      const r = await fetch(`${source.url}/${fidOf(vid, k)}`, { method: "DELETE" });
      await r.arrayBuffer();
      expected.set(fidOf(vid, k), undefined);
    }
  }
  return expected;
}

/** Every fid is served whole and as expected, or (when `partial`) not at all. */
async function check(url: string, expected: Map<string, string | undefined>, partial: boolean, what: string) {
  const served = await readAll(url, expected.keys());
  for (const [fid, hash] of expected) {
    const got = served.get(fid);
    if (got?.status === 200) assert.equal(got.hash, hash, `${what}: ${fid} served other bytes`);
    else if (hash !== undefined && !partial) assert.fail(`${what}: ${fid} not served (${got?.status})`);
    else assert.equal(got?.status, 404, `${what}: ${fid} answered ${got?.status}`);
  }
}

/** Starts `pull`, SIGKILLs the source at a random moment within `windowMs`, restarts it. */
async function killSourceDuring(source: Restartable, pull: () => Promise<unknown>, windowMs: number) {
  const outcome = pull().then(
    () => undefined,
    (e: Error & { code?: number }) => e,
  );
  await new Promise((r) => setTimeout(r, Math.random() * windowMs));
  source.proc.child.kill("SIGKILL");
  await source.proc.exited;
  const err = await outcome;
  await source.start();
  return err;
}

test("VolumeTailReceiver from a source SIGKILLed mid-tail: a gRPC error, no torn needle, a retry completes", async (t) => {
  const VID = 81;
  const { source, target, address } = await pair("tail");
  const tc = client(target.grpcAddress);
  try {
    const expected = await populate(source, VID);
    await allocate(tc, VID);
    const tail = () =>
      unary(
        tc,
        "volumeTailReceiver",
        { volumeId: VID, sinceNs: 0n, idleTimeoutSeconds: 1, sourceVolumeServer: address },
        120_000,
      );
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round++) {
      // The source sends everything, then idles for 2 s before it ends the tail: a kill in the first
      // 1.5 s always lands while the tail is open, mostly while records are flowing.
      const err = await killSourceDuring(source, tail, 1500);
      outcomes.push(err ? `code ${err.code}: ${err.message.split("\n")[0]}` : "completed");
      assert.ok(err, `round ${round}: the tail from a killed source reported success`);
      assert.equal(typeof err.code, "number", `round ${round}: not a gRPC error: ${err.message}`);
      await check(target.url, expected, true, `round ${round}, after the kill`);

      await retryWhileUnavailable(tail);
      await check(target.url, expected, false, `round ${round}, after a retry`);
      // Start the next round from an empty follower.
      await unary(tc, "volumeDelete", { volumeId: VID, onlyEmpty: false });
      await allocate(tc, VID);
    }
    t.diagnostic(`tails when the source was killed: ${outcomes.join("; ")}`);

    // A follower cut off mid-tail and then restarted loads what it kept, whole.
    await killSourceDuring(source, tail, 1500);
    target.proc.child.kill("SIGKILL");
    await target.proc.exited;
    await target.start();
    await check(target.url, expected, true, "follower restarted after a cut tail");
  } finally {
    tc.close();
    await source.proc.stop();
    await target.proc.stop();
  }
});

test("VolumeEcShardsCopy from a source SIGKILLed mid-copy: a gRPC error, no partial shard, a retry completes", async (t) => {
  const VID = 82;
  const { source, target, address } = await pair("ec-copy");
  const sourceDir = join(env.dir, "ec-copy-src");
  const targetDir = join(env.dir, "ec-copy-dst");
  let sc = client(source.grpcAddress);
  const tc = client(target.grpcAddress);
  const ecFiles = (dir: string) =>
    new Map(
      readdirSync(dir)
        .filter((n) => /^82\.(ec[0-9]{2}|ecx|ecj)$/.test(n))
        .map((n) => [n, sha(readFileSync(join(dir, n)))]),
    );
  const shardIds = Array.from({ length: 14 }, (_, i) => i);
  const copy = () =>
    unary(
      tc,
      "volumeEcShardsCopy",
      {
        volumeId: VID,
        collection: "",
        shardIds,
        copyEcxFile: true,
        sourceDataNode: address,
        copyEcjFile: true,
        copyVifFile: true,
        diskId: 0,
        copyEcsumFile: true,
        ioBytePerSecond: 0n,
      },
      120_000,
    );
  const dropCopy = () =>
    unary(tc, "volumeEcShardsDelete", {
      volumeId: VID,
      collection: "",
      shardIds,
      fullTeardown: true,
      encodeTsNs: 0n,
      deleteGenerationsOlderThan: 0,
    });
  try {
    const expected = await populate(source, VID);
    await unary(sc, "volumeEcShardsGenerate", { volumeId: VID, collection: "" }, 120_000);
    let sourceFiles = ecFiles(sourceDir);
    let started = Date.now();
    await copy();
    const copyMs = Date.now() - started;
    assert.deepEqual(ecFiles(targetDir), sourceFiles);
    await dropCopy();
    t.diagnostic(`a copy of 14 shards takes ${copyMs} ms`);

    const outcomes: string[] = [];
    for (let round = 0; round < 5; round++) {
      const err = await killSourceDuring(source, copy, copyMs);
      sc.close();
      sc = client(source.grpcAddress);
      // The restarted source mounted its shards, which makes an empty .ecj: compare with it now.
      sourceFiles = ecFiles(sourceDir);
      const left = ecFiles(targetDir);
      outcomes.push(`${err ? `code ${err.code}` : "completed"}, ${left.size} files left`);
      if (err) assert.equal(typeof err.code, "number", `round ${round}: not a gRPC error: ${err.message}`);
      // Whatever the copy left is whole: each file equals the source's.
      for (const [name, hash] of left)
        assert.equal(hash, sourceFiles.get(name), `round ${round}: partial ${name} left`);
      assert.equal((await fetch(`${target.url}/status`)).status, 200);

      started = Date.now();
      await retryWhileUnavailable(copy);
      assert.deepEqual(ecFiles(targetDir), sourceFiles, `round ${round}: the retried copy differs`);
      // The copied volume serves every needle from its shards.
      await unary(tc, "volumeEcShardsMount", {
        volumeId: VID,
        collection: "",
        shardIds,
        sourceDiskType: "",
        recoverMissingIndex: false,
      });
      await check(target.url, expected, false, `round ${round}, from the copied shards`);
      await dropCopy();
    }
    t.diagnostic(`copies when the source was killed: ${outcomes.join("; ")}`);
  } finally {
    sc.close();
    tc.close();
    await source.proc.stop();
    await target.proc.stop();
  }
});
