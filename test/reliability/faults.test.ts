// Faults around a running server: the master going away and coming back (reads and writes on
// existing volumes go on; the server re-registers), and a replica down during a write to a 001
// volume (the write fails as the Go volume server fails it, compared side by side).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  freePort,
  type Master,
  type Proc,
  scratchDir,
  startProcess,
  startVolume,
  waitFor,
  weedBinary,
} from "../support/processes.js";
import { allocate, bodyOf, client, fidOf, put, readAll, restartable, sha, until } from "./support.js";

let scratch: ReturnType<typeof scratchDir>;
const procs: Proc[] = [];

before(() => {
  scratch = scratchDir("wv-rel-faults-");
});
after(async () => {
  for (const p of procs) await p.stop("SIGKILL");
  scratch?.cleanup();
});

/** A weed master on given ports, so it can be restarted where the volume server looks for it. */
async function master(port: number, grpcPort: number, name: string): Promise<Master> {
  const mdir = join(scratch.dir, `${name}-mdir`);
  mkdirSync(mdir, { recursive: true });
  const proc = startProcess(
    weedBinary(),
    [
      "master",
      "-ip=127.0.0.1",
      `-port=${port}`,
      `-port.grpc=${grpcPort}`,
      `-mdir=${mdir}`,
      "-peers=none",
      "-volumeSizeLimitMB=32",
      "-defaultReplication=000",
    ],
    scratch.dir,
    name,
  );
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/dir/status`, (s) => s === 200);
  return { port, grpcPort, url, proc };
}

async function locations(m: Master, vid: number): Promise<string[]> {
  try {
    const r = await fetch(`${m.url}/dir/lookup?volumeId=${vid}`);
    const j = (await r.json()) as { locations?: { url: string }[] };
    return (j.locations ?? []).map((l) => l.url);
  } catch {
    return [];
  }
}

test("master down: reads and writes on existing volumes go on, the server re-registers", async () => {
  const port = await freePort();
  const grpcPort = await freePort();
  let m = await master(port, grpcPort, "master-a");
  const data = join(scratch.dir, "md");
  mkdirSync(data);
  const server = await restartable(scratch.dir, data, m, "md-volume");
  procs.push(server.proc);
  const c = client(server.grpcAddress);
  await allocate(c, 51);
  c.close();
  await until("the master lists volume 51", async () => (await locations(m, 51)).length === 1);

  const acknowledged = new Map<string, string>();
  for (let k = 1; k <= 20; k++) {
    assert.equal(await put(server.url, fidOf(51, k), bodyOf(k)), 201);
    acknowledged.set(fidOf(51, k), sha(bodyOf(k)));
  }
  m.proc.child.kill("SIGKILL");
  await m.proc.exited;
  // With the master gone, for longer than a few heartbeats.
  for (let k = 21; k <= 60; k++) {
    assert.equal(await put(server.url, fidOf(51, k), bodyOf(k)), 201, `write ${k} with the master down`);
    acknowledged.set(fidOf(51, k), sha(bodyOf(k)));
    if (k % 10 === 0) await new Promise((r) => setTimeout(r, 1000));
  }
  for (const [fid, got] of await readAll(server.url, acknowledged.keys())) {
    assert.equal(got.status, 200, `${fid} with the master down`);
    assert.equal(got.hash, acknowledged.get(fid));
  }
  const status = await fetch(`${server.url}/status`);
  assert.equal(status.status, 200);
  await status.arrayBuffer();

  m = await master(port, grpcPort, "master-b");
  await until("the restarted master learns volume 51 from our server", async () =>
    (await locations(m, 51)).includes(`127.0.0.1:${server.port}`),
  );
  assert.equal(await put(server.url, fidOf(51, 61), bodyOf(61)), 201);
  await server.proc.stop();
  await m.proc.stop();
});

test("replica down: a write to a 001 volume fails as Go's does, and leaves what Go leaves", async () => {
  const m = await master(await freePort(), await freePort(), "master-r");
  const outcome: Partial<Record<"go" | "ours", { status: number; message: string; after: number }>> = {};
  for (const [kind, vid] of [
    ["go", 71],
    ["ours", 72],
  ] as const) {
    const primaryData = join(scratch.dir, `r-${kind}-a`);
    const replicaData = join(scratch.dir, `r-${kind}-b`);
    mkdirSync(primaryData);
    mkdirSync(replicaData);
    const primary = await startVolume(kind, scratch.dir, primaryData, m);
    const replica = await startVolume("go", scratch.dir, replicaData, m);
    procs.push(primary.proc, replica.proc);
    for (const s of [primary, replica]) {
      const c = client(`127.0.0.1:${s.grpcPort}`);
      await allocate(c, vid, "001");
      c.close();
    }
    await until(`the master lists both copies of ${vid}`, async () => (await locations(m, vid)).length === 2);
    assert.equal(await put(primary.url, fidOf(vid, 1), bodyOf(1)), 201, `${kind}: replicated write`);

    replica.proc.child.kill("SIGKILL");
    await replica.proc.exited;
    // Both servers ask the master for the copies at write time: compare them once it has seen the
    // replica go (on a loaded machine the master can take a moment after the kill).
    await until(
      `the master drops the dead copy of ${vid}`,
      async () => (await locations(m, vid)).length === 1,
    );
    const r = await fetch(`${primary.url}/${fidOf(vid, 2)}`, {
      method: "POST",
      body: bodyOf(2),
      headers: { "content-type": "application/octet-stream" },
    });
    const text = await r.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {}
    const after = await fetch(`${primary.url}/${fidOf(vid, 2)}`);
    await after.arrayBuffer();
    outcome[kind] = {
      status: r.status,
      // Ports, volume ids and addresses differ between the two runs.
      message: message.replace(/127\.0\.0\.1:\d+/g, "ADDR").replace(/\b7[12]\b/g, "VID"),
      after: after.status,
    };
    // The first write is intact on the primary.
    const first = await readAll(primary.url, [fidOf(vid, 1)]);
    assert.equal(first.get(fidOf(vid, 1))?.hash, sha(bodyOf(1)), `${kind}: earlier write damaged`);
    await primary.proc.stop();
  }
  const { go, ours } = outcome;
  if (!go || !ours) throw new Error("a run did not finish");
  assert.notEqual(
    go.status,
    201,
    `Go acknowledged a write with its replica down: ${JSON.stringify(outcome)}`,
  );
  assert.equal(ours.status, go.status, JSON.stringify(outcome));
  assert.equal(ours.message, go.message, JSON.stringify(outcome));
  assert.equal(ours.after, go.after, `state after the failed write: ${JSON.stringify(outcome)}`);
  console.log(`replica down: ${JSON.stringify(outcome)}`);
  await m.proc.stop();
});
