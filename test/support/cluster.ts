// A mixed cluster for maintenance tests: the real weed master, Go and our volume servers, files
// placed on chosen servers and checked back by sha256 from every server the master lists.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import type { Master, VolumeProc } from "./processes.js";
import { weedBinary } from "./processes.js";

export interface StoredFile {
  fid: string;
  vid: number;
  sha: string;
  deleted?: boolean;
}

export interface Server extends VolumeProc {
  kind: "go" | "ours";
  /** host:port as the master and weed shell name it */
  node: string;
  /** host:port.grpcPort, as weed shell flags need it (a bare host:port means grpc = port + 10000) */
  addr: string;
  rack: string;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Runs `weed shell` with the given commands (inside lock/unlock) and returns stdout + stderr. */
export async function shell(
  master: Master,
  cwd: string,
  commands: string[],
  filer?: string,
): Promise<string> {
  const args = ["shell", `-master=127.0.0.1:${master.port}.${master.grpcPort}`];
  if (filer) args.push(`-filer=${filer}`);
  const child = spawn(weedBinary(), args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    out += d;
  });
  child.stdin.end(["lock", ...commands, "unlock", ""].join("\n"));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearTimeout(timer);
  assert.equal(code, 0, `weed shell exited ${code}:\n${out}`);
  return out;
}

/** Fails on any line of shell output that reports an error or a failure. */
export function assertNoShellError(out: string): void {
  const bad = out.split("\n").filter((l) => /\berror\b|\bfail(ed|ure)?\b|panic/i.test(l));
  assert.deepEqual(bad, [], `weed shell reported errors:\n${out}`);
}

/** Grows `count` volumes of a collection with the first copy on `node`; returns their ids. */
export async function grow(
  master: Master,
  collection: string,
  replication: string,
  server: Server,
  count = 1,
): Promise<number[]> {
  const before = new Set(await collectionVolumes(master, collection));
  const q = new URLSearchParams({
    collection,
    replication,
    count: String(count),
    dataCenter: "dc1",
    rack: server.rack,
    dataNode: server.node,
  });
  const r = await fetch(`${master.url}/vol/grow?${q}`);
  const body = await r.text();
  assert.equal(r.status, 200, body);
  let ids: number[] = [];
  await eventually(async () => {
    ids = (await collectionVolumes(master, collection)).filter((v) => !before.has(v));
    return ids.length === count;
  }, `${count} new volume(s) of ${collection}`);
  return ids;
}

export async function growOne(
  master: Master,
  collection: string,
  replication: string,
  server: Server,
): Promise<number> {
  return (await grow(master, collection, replication, server, 1))[0] as number;
}

async function collectionVolumes(master: Master, collection: string): Promise<number[]> {
  const status = (await (await fetch(`${master.url}/vol/status`)).json()) as {
    Volumes: {
      DataCenters: Record<string, Record<string, Record<string, { Id: number; Collection: string }[]>>>;
    };
  };
  const ids = new Set<number>();
  for (const dc of Object.values(status.Volumes.DataCenters ?? {}))
    for (const rack of Object.values(dc))
      for (const vols of Object.values(rack))
        for (const v of vols ?? []) if (v.Collection === collection) ids.add(v.Id);
  return [...ids].sort((a, b) => a - b);
}

/** Master's view of which servers hold a volume. */
export async function locations(master: Master, vid: number): Promise<string[]> {
  const r = await fetch(`${master.url}/dir/lookup?volumeId=${vid}`);
  const body = (await r.json()) as { locations?: { url: string }[] };
  return (body.locations ?? []).map((l) => l.url).sort();
}

export async function waitLocations(master: Master, vid: number, nodes: string[]): Promise<void> {
  const want = [...nodes].sort();
  await eventually(
    async () => JSON.stringify(await locations(master, vid)) === JSON.stringify(want),
    `volume ${vid} on ${want.join(",")} (master says ${(await locations(master, vid)).join(",")})`,
  );
}

let nextKey = 0x1000;

/** A fresh file id in a volume; the master is not asked, so no assign reservation delays vacuum. */
export function newFid(vid: number): string {
  nextKey++;
  return `${vid},${nextKey.toString(16)}${randomBytes(4).toString("hex")}`;
}

/** Uploads `n` random files into a volume through one of its servers (which replicates them). */
export async function upload(master: Master, vid: number, n: number, size?: number): Promise<StoredFile[]> {
  const [node] = await locations(master, vid);
  assert.ok(node, `volume ${vid} has no location`);
  const files: StoredFile[] = [];
  for (let i = 0; i < n; i++) files.push(await put(node, newFid(vid), false, size));
  return files;
}

/** Writes one file to one server only (type=replicate keeps the server from forwarding it). */
export async function put(
  node: string,
  fid: string,
  replicateOnly = false,
  size?: number,
): Promise<StoredFile> {
  const body = randomBytes(size ?? 1024 + Math.floor(Math.random() * 60_000));
  const url = `http://${node}/${fid}${replicateOnly ? "?type=replicate" : ""}`;
  const r = await fetch(url, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/octet-stream" },
  });
  assert.equal(r.status, 201, `${url}: ${await r.text()}`);
  await r.arrayBuffer().catch(() => undefined);
  return { fid, vid: Number(fid.split(",")[0]), sha: sha256(body) };
}

export async function remove(master: Master, file: StoredFile): Promise<void> {
  const [node] = await locations(master, file.vid);
  const r = await fetch(`http://${node}/${file.fid}`, { method: "DELETE" });
  assert.equal(r.status, 202, await r.text());
  file.deleted = true;
}

/** Every live file reads back with its sha256 from every server the master lists; deleted ones 404. */
export async function verifyAll(master: Master, files: StoredFile[]): Promise<number> {
  let reads = 0;
  for (const f of files) {
    const nodes = await locations(master, f.vid);
    assert.ok(nodes.length > 0, `volume ${f.vid} has no location`);
    for (const node of nodes) {
      const r = await fetch(`http://${node}/${f.fid}`);
      const body = new Uint8Array(await r.arrayBuffer());
      if (f.deleted) {
        assert.equal(r.status, 404, `deleted ${f.fid} on ${node}`);
      } else {
        assert.equal(r.status, 200, `${f.fid} on ${node}`);
        assert.equal(sha256(body), f.sha, `${f.fid} on ${node} checksum`);
      }
      reads++;
    }
  }
  return reads;
}

export async function eventually(check: () => Promise<boolean>, what: string, seconds = 30): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out: ${what}`);
}
