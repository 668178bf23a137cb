// weed shell maintenance on a mixed cluster: the real weed master and filer, two Go volume servers
// (rack r1) and two of ours (rack r2). vacuum, move, copy, fix.replication, check.disk, balance and
// fsck run with Go and our servers on each side, and after every step each file reads back with its
// sha256 from every server the master lists for it.
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import {
  assertNoShellError,
  eventually,
  grow,
  growOne,
  locations,
  newFid,
  put,
  remove,
  type Server,
  type StoredFile,
  shell,
  upload,
  verifyAll,
  waitLocations,
} from "../support/cluster.js";
import {
  freePort,
  type Master,
  type Proc,
  scratchDir,
  startMaster,
  startProcess,
  startVolume,
  waitFor,
  weedBinary,
} from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let filer: { proc: Proc; address: string; url: string };
const servers: Record<"go1" | "go2" | "ours1" | "ours2", Server> = {} as never;
const files: StoredFile[] = [];

async function startServer(name: keyof typeof servers, kind: "go" | "ours", rack: string): Promise<void> {
  const data = join(scratch.dir, name);
  mkdirSync(data);
  const v = await startVolume(kind, scratch.dir, data, master, [
    "-dataCenter=dc1",
    `-rack=${rack}`,
    // every peer is on 127.0.0.1, which VolumeCopy refuses to dial without this (Go and ours alike)
    "-volume.allowUntrustedRemoteEndpoints",
  ]);
  servers[name] = {
    ...v,
    kind,
    rack,
    node: `127.0.0.1:${v.port}`,
    addr: `127.0.0.1:${v.port}.${v.grpcPort}`,
  };
}

/** Runs shell commands, fails on any error line, and shows what the shell did in the test report. */
async function run(t: TestContext, commands: string[]): Promise<string> {
  const out = await shell(master, scratch.dir, commands, filer?.address);
  assertNoShellError(out);
  const lines = out
    .split("\n")
    .filter((l) => l.trim() !== "" && !/^(load collection|collecting volume)/.test(l));
  t.diagnostic(`$ ${commands.join("; ")}${lines.length ? "\n" : ""}${lines.slice(0, 40).join("\n")}`);
  return out;
}

async function verify(): Promise<void> {
  const reads = await verifyAll(master, files);
  assert.ok(reads >= files.length);
}

const datSize = (server: string, collection: string, vid: number) =>
  statSync(join(scratch.dir, server, `${collection}_${vid}.dat`)).size;

before(async () => {
  scratch = scratchDir("wv-maint-");
  // 1 MB volumes: volume.balance weighs servers by volume bytes against this limit.
  master = await startMaster(scratch.dir, ["-volumeSizeLimitMB=1"]);
  await startServer("go1", "go", "r1");
  await startServer("go2", "go", "r1");
  await startServer("ours1", "ours", "r2");
  await startServer("ours2", "ours", "r2");
  await eventually(async () => {
    const s = (await (await fetch(`${master.url}/dir/status`)).json()) as {
      Topology: { DataCenters: { Racks: { DataNodes: unknown[] | null }[] }[] };
    };
    return s.Topology.DataCenters.flatMap((d) => d.Racks.flatMap((r) => r.DataNodes ?? [])).length === 4;
  }, "four volume servers registered");
});

after(async () => {
  await filer?.proc.stop("SIGKILL");
  for (const s of Object.values(servers)) await s.proc.stop("SIGKILL");
  await master?.proc.stop();
  if (process.env.KEEP_SCRATCH) console.log(`scratch kept: ${scratch.dir}`);
  else scratch?.cleanup();
});

test("volume.vacuum compacts a volume on a Go server and one on ours", async (t) => {
  for (const [name, collection] of [
    ["go1", "vacgo"],
    ["ours1", "vacours"],
  ] as const) {
    const vid = await growOne(master, collection, "000", servers[name]);
    const written = await upload(master, vid, 10);
    assert.ok(written.every((f) => f.vid === vid));
    for (const f of written.slice(0, 6)) await remove(master, f);
    files.push(...written);
    const sizeBefore = datSize(name, collection, vid);
    await run(t, [`volume.vacuum -garbageThreshold=0.1 -volumeId=${vid}`]);
    await eventually(
      async () => datSize(name, collection, vid) < sizeBefore,
      `${collection}_${vid}.dat shrinks`,
    );
  }
  await verify();
});

test("volume.move: Go → ours and ours → Go", async (t) => {
  for (const [from, to, collection] of [
    ["go1", "ours2", "mvgo"],
    ["ours1", "go2", "mvours"],
  ] as const) {
    const vid = await growOne(master, collection, "000", servers[from]);
    const written = await upload(master, vid, 8);
    files.push(...written);
    await remove(master, written[0] as StoredFile);
    await run(t, [`volume.move -volumeId=${vid} -source=${servers[from].addr} -target=${servers[to].addr}`]);
    await waitLocations(master, vid, [servers[to].node]);
  }
  await verify();
});

test("volume.copy: Go → ours and ours → Go", async (t) => {
  for (const [from, to, collection] of [
    ["go2", "ours1", "cpgo"],
    ["ours2", "go1", "cpours"],
  ] as const) {
    const vid = await growOne(master, collection, "000", servers[from]);
    files.push(...(await upload(master, vid, 8)));
    await run(t, [`volume.copy -volumeId=${vid} -source=${servers[from].addr} -target=${servers[to].addr}`]);
    await waitLocations(master, vid, [servers[from].node, servers[to].node]);
  }
  await verify();
});

let repGo = 0;
let repOurs = 0;

test("volume.fix.replication recreates a missing replica on ours and on Go", async (t) => {
  // 010: one copy in each rack, so rack r1 holds a Go copy and rack r2 one of ours.
  for (const [primary, collection] of [
    ["go1", "repgo"],
    ["ours1", "repours"],
  ] as const) {
    const vid = await growOne(master, collection, "010", servers[primary]);
    await eventually(
      async () => (await locations(master, vid)).length === 2,
      `volume ${vid} has two replicas`,
    );
    const written = await upload(master, vid, 8);
    files.push(...written);
    await remove(master, written[0] as StoredFile);
    if (collection === "repgo") repGo = vid;
    else repOurs = vid;
  }
  // Drop the replica on ours of repgo (re-created from Go onto ours) and the Go replica of repours
  // (re-created from ours onto Go).
  for (const [vid, kind] of [
    [repGo, "ours"],
    [repOurs, "go"],
  ] as const) {
    const held = await locations(master, vid);
    const victim = Object.values(servers).find((s) => s.kind === kind && held.includes(s.node));
    assert.ok(victim, `volume ${vid} has a ${kind} replica`);
    await run(t, [`volume.delete -volumeId=${vid} -node=${victim.addr}`]);
    await eventually(
      async () => (await locations(master, vid)).length === 1,
      `volume ${vid} down to one replica`,
    );
  }
  const out = await run(t, ["volume.fix.replication -collectionPattern=rep* -apply"]);
  for (const [vid, kind] of [
    [repGo, "ours"],
    [repOurs, "go"],
  ] as const) {
    await eventually(async () => {
      const held = await locations(master, vid);
      return (
        held.length === 2 && Object.values(servers).some((s) => s.kind === kind && held.includes(s.node))
      );
    }, `volume ${vid} replicated back onto a ${kind} server:\n${out}`);
  }
  await verify();
});

test("volume.check.disk syncs needles between Go and our replicas", async (t) => {
  // A needle written to one replica only, on the Go side of one volume and on our side of another.
  for (const [vid, kind] of [
    [repGo, "go"],
    [repOurs, "ours"],
  ] as const) {
    const held = await locations(master, vid);
    const target = Object.values(servers).find((s) => s.kind === kind && held.includes(s.node));
    assert.ok(target);
    const lonely = await put(target.node, newFid(vid), true);
    const other = held.find((n) => n !== target.node) as string;
    assert.equal((await fetch(`http://${other}/${lonely.fid}`)).status, 404);
    files.push(lonely);
  }
  await assert.rejects(verify(), "one replica misses a needle before check.disk");
  const out = await run(t, ["volume.check.disk -slow -v -resurrectMissingNeedles -apply"]);
  await verify().catch((e) => assert.fail(`${e}\n${out}`));
});

test("volume.balance moves volumes Go → ours and ours → Go", async (t) => {
  for (const [from, to, collection] of [
    ["go2", "ours2", "balgo"],
    ["ours1", "go1", "balours"],
  ] as const) {
    const vids = await grow(master, collection, "000", servers[from], 4);
    for (const vid of vids) files.push(...(await upload(master, vid, 2, 450_000)));
    const out = await run(t, [
      `volume.balance -v -collection=${collection} -nodes=${servers[from].node},${servers[to].node} -apply`,
    ]);
    await eventually(async () => {
      const held = await Promise.all(vids.map((v) => locations(master, v)));
      return held.some((h) => h.includes(servers[to].node)) && held.every((h) => h.length === 1);
    }, `some ${collection} volumes moved to ${to}:\n${out}`);
  }
  await verify();
});

test("volume.fsck with a filer finds nothing missing across Go and our servers", async (t) => {
  const port = await freePort();
  const grpcPort = await freePort();
  const fdir = join(scratch.dir, "filer");
  mkdirSync(fdir);
  const proc = startProcess(
    weedBinary(),
    [
      "filer",
      "-ip=127.0.0.1",
      `-port=${port}`,
      `-port.grpc=${grpcPort}`,
      `-master=127.0.0.1:${master.port}.${master.grpcPort}`,
      `-defaultStoreDir=${fdir}`,
      "-collection=fsck",
    ],
    scratch.dir,
    "filer",
  );
  filer = { proc, address: `127.0.0.1:${port}.${grpcPort}`, url: `http://127.0.0.1:${port}` };
  await waitFor(`${filer.url}/`, (s) => s < 500);
  await grow(master, "fsck", "000", servers.go1);
  await grow(master, "fsck", "000", servers.ours2);
  for (let i = 0; i < 8; i++) {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(4096).fill(i)]), `file${i}.bin`);
    const r = await fetch(`${filer.url}/dir/`, { method: "POST", body: form });
    assert.ok(r.status < 300, await r.text());
  }
  const out = await run(t, ["volume.fsck -v -verifyNeedles"]);
  assert.match(out, /total \d+ directories, \d+ files/i);
  assert.doesNotMatch(out, /missing/i);
  await verify();
});
