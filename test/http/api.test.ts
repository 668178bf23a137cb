// The rest of the HTTP API, each request sent alike to a cluster of real weed volume servers and to
// one of ours (two servers each, on their own masters): admin endpoints, methods and CORS, deletes
// and readDeleted, TTL expiry, image resizing and cropping, the public port, and reads of volumes
// held by the other server (proxy and redirect read modes).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { allocateVolume } from "../support/grpc.js";
import {
  freePort,
  type Master,
  scratchDir,
  startMaster,
  startVolume,
  type VolumeProc,
  waitFor,
} from "../support/processes.js";
import { type Answer, assertSameAnswer, fetchRaw } from "./twin.js";

/** The same request to weed (`goUrl`) and to us; the answers must match (or only their status). */
async function sameAnswer(
  goUrl: string,
  ourUrl: string,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer;
    only?: "status";
    compareHeaders?: string[];
  } = {},
): Promise<{ go: Answer; ours: Answer }> {
  const { method = "GET", headers = {}, body } = options;
  const [g, o] = await Promise.all([
    fetchRaw(goUrl, path, method, headers, body),
    fetchRaw(ourUrl, path, method, headers, body),
  ]);
  const what = `${method} ${path} ${JSON.stringify(headers)}`;
  if (options.only !== "status") assertSameAnswer(o, g, what);
  assert.equal(o.status, g.status, `${what}: status`);
  for (const name of options.compareHeaders ?? [])
    assert.equal(o.headers[name], g.headers[name], `${what}: ${name}`);
  return { go: g, ours: o };
}

interface Cluster {
  master: Master;
  /** readMode=proxy, with a public port. */
  a: VolumeProc & { publicPort: number };
  /** readMode=redirect. */
  b: VolumeProc;
}

let scratch: ReturnType<typeof scratchDir>;
let go: Cluster;
let ours: Cluster;
let png: Buffer;
let jpeg: Buffer;

async function startCluster(kind: "go" | "ours"): Promise<Cluster> {
  const dir = join(scratch.dir, kind);
  mkdirSync(join(dir, "a"), { recursive: true });
  mkdirSync(join(dir, "b"));
  const master = await startMaster(dir);
  const publicPort = await freePort();
  const a = await startVolume(kind, dir, join(dir, "a"), master, [
    "-readMode=proxy",
    "-images.fix.orientation",
    `-port.public=${publicPort}`,
  ]);
  const b = await startVolume(kind, dir, join(dir, "b"), master, ["-readMode=redirect"]);
  await allocateVolume(a.grpcPort, 5);
  await allocateVolume(b.grpcPort, 6);
  // The master must know both volumes before either server can find the other's.
  for (const vid of [5, 6]) await waitFor(`${master.url}/dir/lookup?volumeId=${vid}`, (s) => s === 200);
  return { master, a: { ...a, publicPort }, b };
}

before(async () => {
  scratch = scratchDir("wv-api-");
  png = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3366cc" } })
    .png()
    .toBuffer();
  jpeg = await sharp({ create: { width: 80, height: 40, channels: 3, background: "#cc6633" } })
    .jpeg()
    .toBuffer();
  [go, ours] = await Promise.all([startCluster("go"), startCluster("ours")]);
  for (const c of [go, ours]) {
    const writes: Array<[string, string, Buffer, string]> = [
      [c.a.url, "5,0100000001", Buffer.from("alpha"), "text/plain"],
      [c.a.url, "5,0200000002", png, "image/png"],
      [c.a.url, "5,0300000003", jpeg, "image/jpeg"],
      [c.b.url, "6,0400000004", Buffer.from("held by b"), "text/plain"],
    ];
    for (const [url, fid, body, type] of writes) {
      const form = new FormData();
      const name = type === "image/png" ? "p.png" : type === "image/jpeg" ? "j.jpg" : "t.txt";
      form.set("file", new Blob([body], { type }), name);
      const r = await fetch(`${url}/${fid}`, { method: "POST", body: form });
      assert.equal(r.status, 201, await r.text());
    }
  }
});

after(async () => {
  for (const c of [go, ours]) {
    await Promise.all([c?.a.proc.stop(), c?.b.proc.stop()]);
    await c?.master.proc.stop();
  }
  scratch?.cleanup();
});

test("admin endpoints answer as weed's: status codes, types, and /status's fields", async () => {
  for (const path of [
    "/healthz",
    "/readyz",
    "/stats/counter",
    "/stats/memory",
    "/stats/disk",
    "/favicon.ico",
    "/seaweedfsstatic/seaweed50x50.png",
    "/seaweedfsstatic/nope.css",
  ]) {
    await sameAnswer(go.a.url, ours.a.url, path, { only: "status", compareHeaders: ["content-type"] });
  }
  const [g, o] = await Promise.all([fetch(`${go.a.url}/status`), fetch(`${ours.a.url}/status`)]);
  const [gj, oj] = [(await g.json()) as Record<string, unknown>, (await o.json()) as Record<string, unknown>];
  assert.deepEqual(Object.keys(oj).sort(), Object.keys(gj).sort(), "/status fields");
  // pretty and callback (JSONP) as weed writes them.
  for (const query of ["?pretty=y", "?callback=cb"]) {
    const [gp, op] = await Promise.all([
      fetchRaw(go.a.url, `/status${query}`, "GET", {}),
      fetchRaw(ours.a.url, `/status${query}`, "GET", {}),
    ]);
    assert.equal(op.status, gp.status);
    assert.equal(op.headers["content-type"], gp.headers["content-type"], query);
    const shape = (b: Buffer) =>
      b
        .toString()
        .replace(/"[^"]*"|\d+/g, "_")
        .replace(/\s+/g, " ")
        .slice(0, 12);
    assert.equal(shape(op.body), shape(gp.body), `${query} wraps the JSON alike`);
  }
});

test("methods, CORS and the request id: OPTIONS, refused methods, Origin", async () => {
  await sameAnswer(go.a.url, ours.a.url, "/5,0100000001", { method: "OPTIONS" });
  await sameAnswer(go.a.url, ours.a.url, "/5,0100000001", { headers: { Origin: "https://example.org" } });
  for (const method of ["PATCH", "TRACE", "PROPFIND"]) {
    await sameAnswer(go.a.url, ours.a.url, "/5,0100000001", { method, only: "status" });
  }
  const r = await fetchRaw(ours.a.url, "/5,0100000001", "GET", {});
  assert.match(
    r.headers["x-amz-request-id"] ??
      (await fetch(`${ours.a.url}/5,0100000001`)).headers.get("x-amz-request-id") ??
      "",
    /^[0-9A-F]{24}$/,
  );
  const server = (await fetch(`${ours.a.url}/status`)).headers.get("server");
  assert.equal(server, (await fetch(`${go.a.url}/status`)).headers.get("server"), "Server header");
});

test("the public port serves reads only", async () => {
  const pub = (c: Cluster) => `http://127.0.0.1:${c.a.publicPort}`;
  await sameAnswer(pub(go), pub(ours), "/5,0100000001");
  await sameAnswer(pub(go), pub(ours), "/5,0100000001", { method: "HEAD" });
  for (const method of ["POST", "PUT", "DELETE"]) {
    await sameAnswer(pub(go), pub(ours), "/5,0100000001", { method, body: Buffer.from("x") });
  }
  await sameAnswer(pub(go), pub(ours), "/status", { only: "status" });
  for (const c of [go, ours])
    assert.equal((await fetch(`${c.a.url}/5,0100000001`)).status, 200, "still there");
});

test("reads of the other server's volume: redirect and proxy read modes", async () => {
  // b redirects to a, which holds volume 5; the Location names a, marked proxied.
  const [g, o] = await Promise.all([
    fetchRaw(go.b.url, "/5,0100000001", "GET", {}),
    fetchRaw(ours.b.url, "/5,0100000001", "GET", {}),
  ]);
  assert.equal(o.status, g.status);
  assert.equal(o.status, 301);
  const where = (loc: string | undefined, c: Cluster) => (loc ?? "").replace(`127.0.0.1:${c.a.port}`, "A");
  assert.equal(where(o.headers["location"], ours), where(g.headers["location"], go));
  // a fetches volume 6 from b and answers with it.
  const proxied = await Promise.all([fetch(`${go.a.url}/6,0400000004`), fetch(`${ours.a.url}/6,0400000004`)]);
  assert.deepEqual(
    proxied.map((r) => r.status),
    [200, 200],
  );
  assert.deepEqual(await Promise.all(proxied.map((r) => r.text())), ["held by b", "held by b"]);
  // A volume nobody holds.
  await sameAnswer(go.a.url, ours.a.url, "/77,0100000001", { only: "status" });
  await sameAnswer(go.b.url, ours.b.url, "/77,0100000001", { only: "status" });
});

test("images are resized and cropped as weed does (same sizes and types)", async () => {
  const dims = async (b: Buffer) => {
    const m = await sharp(b).metadata();
    return `${m.format} ${m.width}x${m.height}`;
  };
  const queries = [
    "",
    "?width=16",
    "?height=10",
    "?width=20&height=20",
    "?width=20&height=20&mode=fit",
    "?width=20&height=20&mode=fill",
    "?crop_x1=4&crop_y1=4&crop_x2=24&crop_y2=14",
    "?crop_x1=40&crop_y1=4&crop_x2=24&crop_y2=14",
    "?width=1000",
  ];
  for (const fid of ["5,0200000002", "5,0300000003"]) {
    for (const q of queries) {
      const { go: g, ours: o } = await sameAnswer(go.a.url, ours.a.url, `/${fid}${q}`, {
        only: "status",
        compareHeaders: ["content-type"],
      });
      assert.equal(await dims(o.body), await dims(g.body), `${fid}${q}`);
    }
  }
});

test("deletes, readDeleted and TTL expiry answer as weed's", async () => {
  for (const c of [go, ours]) {
    const form = new FormData();
    form.set("file", new Blob(["short lived"], { type: "text/plain" }), "ttl.txt");
    // Written long ago (ts) with a one-minute TTL: already expired.
    const r = await fetch(`${c.a.url}/5,0500000005?ttl=1m&ts=1000000000`, { method: "POST", body: form });
    assert.equal(r.status, 201);
    const d = new FormData();
    d.set("file", new Blob(["doomed"], { type: "text/plain" }), "d.txt");
    assert.equal((await fetch(`${c.a.url}/5,0600000006`, { method: "POST", body: d })).status, 201);
  }
  await sameAnswer(go.a.url, ours.a.url, "/5,0500000005", { only: "status" });
  await sameAnswer(go.a.url, ours.a.url, "/5,06000000ff", { method: "DELETE" });
  await sameAnswer(go.a.url, ours.a.url, "/5,0700000007", { method: "DELETE" });
  await sameAnswer(go.a.url, ours.a.url, "/5,0600000006", { method: "DELETE" });
  await sameAnswer(go.a.url, ours.a.url, "/5,0600000006", { only: "status" });
  await sameAnswer(go.a.url, ours.a.url, "/5,0600000006?readDeleted=true");
  await sameAnswer(go.a.url, ours.a.url, "/5,0600000006", { method: "DELETE" });
});

test("with images.fix.orientation, a rotated JPEG is stored upright, as by weed", async () => {
  const rotated = await sharp({ create: { width: 40, height: 20, channels: 3, background: "#22aa44" } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const stored: string[] = [];
  for (const c of [go, ours]) {
    const form = new FormData();
    form.set("file", new Blob([rotated], { type: "image/jpeg" }), "turned.jpg");
    assert.equal((await fetch(`${c.a.url}/5,0800000008`, { method: "POST", body: form })).status, 201);
    const body = Buffer.from(await (await fetch(`${c.a.url}/5,0800000008`)).arrayBuffer());
    const m = await sharp(body).metadata();
    stored.push(`${m.format} ${m.width}x${m.height} orientation ${m.orientation ?? "none"}`);
  }
  assert.equal(stored[1], stored[0]);
  assert.equal(stored[1], "jpeg 20x40 orientation none");
});
