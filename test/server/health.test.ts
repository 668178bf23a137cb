// /healthz and /readyz: 503 while no master has accepted the heartbeat, and 503 again once a stop
// has begun (during -preStopSeconds), compared there with the real pinned weed volume.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  freePort,
  type Master,
  scratchDir,
  startMaster,
  startVolume,
  type VolumeProc,
} from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
const started: VolumeProc[] = [];
let master: Master | undefined;

before(() => {
  scratch = scratchDir("wv-health-");
});

after(async () => {
  await Promise.all(started.map((v) => v.proc.stop("SIGKILL")));
  await master?.proc.stop();
  scratch?.cleanup();
});

let dirs = 0;
async function start(kind: "go" | "ours", masterOf: Master, extra: string[]): Promise<VolumeProc> {
  const data = join(scratch.dir, `${kind}-${dirs++}`);
  mkdirSync(data);
  const v = await startVolume(kind, scratch.dir, data, masterOf, extra);
  started.push(v);
  return v;
}

async function both(masterOf: Master, extra: string[]): Promise<Record<"go" | "ours", VolumeProc>> {
  return { go: await start("go", masterOf, extra), ours: await start("ours", masterOf, extra) };
}

const statusOf = async (v: VolumeProc, path: string) => (await fetch(v.url + path)).status;

// weed does not serve HTTP at all before its first master contact, so this one is ours alone:
// weed's healthzHandler answers 503 until the heartbeat is accepted.
test("without a master that accepts the heartbeat, healthz and readyz are 503 and /status answers", async () => {
  const nowhere = { port: await freePort(), grpcPort: await freePort() } as Master;
  const ours = await start("ours", nowhere, []);
  assert.equal(await statusOf(ours, "/healthz"), 503);
  assert.equal(await statusOf(ours, "/readyz"), 503);
  assert.equal(await statusOf(ours, "/status"), 200);
});

test("once a stop begins, healthz and readyz turn 503 during preStopSeconds, as in weed", async () => {
  master = await startMaster(scratch.dir);
  const servers = await both(master, ["-preStopSeconds=3"]);
  for (const v of Object.values(servers)) {
    for (let i = 0; i < 100 && (await statusOf(v, "/healthz")) !== 200; i++)
      await new Promise((r) => setTimeout(r, 100));
  }
  for (const v of Object.values(servers)) v.proc.child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 700));
  for (const path of ["/healthz", "/readyz"]) {
    const [g, o] = [await statusOf(servers.go, path), await statusOf(servers.ours, path)];
    assert.equal(o, g, `${path} while stopping`);
    assert.equal(o, 503, `${path} while stopping`);
  }
});
