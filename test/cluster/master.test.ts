// Our server in a cluster run by the real pinned weed master: it is listed (/dir/status and
// `weed shell` volume.list), takes assigned uploads the master can look up, re-registers after a
// master restart, drops out when it stops, and a read-only volume stops being assigned.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { credentials } from "@grpc/grpc-js";
import { VolumeServerClient } from "../../src/pb/volume_server.js";
import {
  type Master,
  scratchDir,
  startMaster,
  startProcess,
  startVolume,
  type VolumeProc,
  waitFor,
  weedBinary,
} from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let volume: VolumeProc;

interface Assignment {
  fid: string;
  url: string;
  error?: string;
}

async function assign(query = ""): Promise<Assignment> {
  return (await (await fetch(`${master.url}/dir/assign${query}`)).json()) as Assignment;
}

async function dataNodes(): Promise<{ Url: string; Volumes: number }[]> {
  const status = (await (await fetch(`${master.url}/dir/status`)).json()) as {
    Topology: { DataCenters: { Racks: { DataNodes: { Url: string; Volumes: number }[] | null }[] }[] };
  };
  return status.Topology.DataCenters.flatMap((dc) => dc.Racks.flatMap((r) => r.DataNodes ?? []));
}

async function eventually(check: () => Promise<boolean>, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} within ${seconds} s`);
}

before(async () => {
  scratch = scratchDir("wv-master-");
  master = await startMaster(scratch.dir);
  const data = join(scratch.dir, "data");
  mkdirSync(data);
  volume = await startVolume("ours", scratch.dir, data, master);
  await waitFor(`${volume.url}/healthz`, (s) => s === 200);
});

after(async () => {
  await volume?.proc.stop("SIGKILL");
  await master?.proc.stop();
  scratch?.cleanup();
});

test("/dir/assign, an upload to our server, then /dir/lookup", async () => {
  const a = await assign();
  assert.equal(a.error, undefined, JSON.stringify(a));
  assert.equal(a.url, `127.0.0.1:${volume.port}`);
  const up = await fetch(`http://${a.url}/${a.fid}`, { method: "POST", body: "hello cluster" });
  assert.equal(up.status, 201);
  const vid = a.fid.split(",")[0];
  const lookup = (await (await fetch(`${master.url}/dir/lookup?volumeId=${vid}`)).json()) as {
    locations: { url: string }[];
  };
  assert.deepEqual(
    lookup.locations.map((l) => l.url),
    [`127.0.0.1:${volume.port}`],
  );
  assert.equal(await (await fetch(`http://${a.url}/${a.fid}`)).text(), "hello cluster");
});

test("weed shell volume.list shows our server and its volumes", async () => {
  const out = execFileSync(weedBinary(), ["shell", `-master=127.0.0.1:${master.port}.${master.grpcPort}`], {
    input: "volume.list\n",
    encoding: "utf8",
    cwd: scratch.dir,
    timeout: 30_000,
  });
  assert.match(out, new RegExp(`127\\.0\\.0\\.1:${volume.port}`));
  assert.match(out, /volume Id:\d+/);
});

test("a volume marked read-only stops being assigned", async () => {
  const { fid } = await assign();
  const vid = Number(fid.split(",")[0]);
  const client = new VolumeServerClient(`127.0.0.1:${volume.grpcPort}`, credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) =>
      client.volumeMarkReadonly({ volumeId: vid, persist: false, canDelete: false }, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  } finally {
    client.close();
  }
  for (let i = 0; i < 20; i++) {
    const a = await assign();
    assert.notEqual(Number(a.fid.split(",")[0]), vid, "read-only volume assigned");
  }
});

test("after a master restart our server is registered again within 10 s", async () => {
  await master.proc.stop();
  const restarted = startProcess(
    weedBinary(),
    [
      "master",
      "-ip=127.0.0.1",
      `-port=${master.port}`,
      `-port.grpc=${master.grpcPort}`,
      `-mdir=${join(scratch.dir, "master")}`,
      "-peers=none",
      "-volumeSizeLimitMB=32",
      "-defaultReplication=000",
    ],
    scratch.dir,
    "master2",
  );
  master = { ...master, proc: restarted };
  await waitFor(`${master.url}/dir/status`, (s) => s === 200);
  await eventually(
    async () => (await dataNodes()).some((n) => n.Url === `127.0.0.1:${volume.port}` && n.Volumes > 0),
    10,
    "re-registered",
  );
});

test("after our server stops, the master drops it", async () => {
  assert.equal(await volume.proc.stop("SIGINT"), 0);
  await eventually(
    async () => !(await dataNodes()).some((n) => n.Url === `127.0.0.1:${volume.port}`),
    10,
    "dropped",
  );
});
