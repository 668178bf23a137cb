// The admin surface next to the real pinned weed volume: /status (Go's JSON fields, pretty, callback),
// /healthz and /readyz, /stats/*, /favicon.ico and /seaweedfsstatic/*, OPTIONS and CORS, the methods
// weed refuses (CONNECT too), the request id and Server headers, and the public port, which serves
// reads only. The same request goes to both servers; the answers must agree.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { formatFileId } from "../../src/storage/needle/file-id.js";
import { freePort } from "../support/processes.js";
import {
  type Answer,
  assertSameAnswer,
  COOKIE,
  fetchRaw,
  fingerprint,
  rawExchange,
  startTwins,
  type Twins,
  writeVolume,
} from "./twin.js";

const VID = 4;
let twins: Twins;
const publicPort = { go: 0, ours: 0 };

before(async () => {
  twins = await startTwins(
    "wv-admin-",
    (source) => writeVolume(source, VID, [{ key: 1, data: Buffer.from("admin surface"), name: "a.txt" }]),
    async (kind) => {
      publicPort[kind] = await freePort();
      return ["-readMode=local", `-port.public=${publicPort[kind]}`];
    },
  );
});

after(async () => {
  await twins?.stop();
});

const fid = formatFileId(VID, 0, 1, COOKIE);

async function pair(
  path: string,
  method = "GET",
  headers: Record<string, string> = {},
  body?: Buffer,
  port: "admin" | "public" = "admin",
): Promise<[Answer, Answer]> {
  const base = (kind: "go" | "ours") =>
    port === "admin" ? twins[kind].url : `http://127.0.0.1:${publicPort[kind]}`;
  return Promise.all([
    fetchRaw(base("go"), path, method, headers, body),
    fetchRaw(base("ours"), path, method, headers, body),
  ]);
}

async function same(
  path: string,
  method = "GET",
  headers: Record<string, string> = {},
  port: "admin" | "public" = "admin",
) {
  const [g, o] = await pair(path, method, headers, undefined, port);
  assertSameAnswer(o, g, `${method} ${path} on the ${port} port ${JSON.stringify(headers)}`);
  return o;
}

/** The shape of a JSON value: object keys (in order) and element shapes, values left out. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === "object")
    return Object.fromEntries(Object.keys(v).map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}

test("/status has Go's fields; pretty indents it and callback is ignored, as in weed", async () => {
  for (const query of ["", "?pretty=y", "?callback=cb", "?pretty=y&callback=cb"]) {
    const [g, o] = await pair(`/status${query}`);
    assert.equal(o.status, g.status);
    assert.equal(o.headers["content-type"], g.headers["content-type"]);
    assert.deepEqual(
      shape(JSON.parse(o.body.toString())),
      shape(JSON.parse(g.body.toString())),
      `/status${query}`,
    );
    assert.equal(o.body.includes("\n  "), g.body.includes("\n  "), `pretty for /status${query}`);
    assert.equal(o.body.toString().startsWith("cb("), g.body.toString().startsWith("cb("));
  }
});

test("/healthz, /readyz, /favicon.ico and /seaweedfsstatic/* answer as weed's", async () => {
  for (const path of ["/healthz", "/readyz"]) {
    await same(path);
    await same(path, "HEAD");
  }
  for (const port of ["admin", "public"] as const) {
    for (const path of ["/favicon.ico", "/seaweedfsstatic/seaweed50x50.png", "/seaweedfsstatic/nope.css"]) {
      const [g, o] = await pair(path, "GET", {}, undefined, port);
      assert.equal(o.status, g.status, `${path} on ${port}`);
      assert.equal(o.headers["content-type"], g.headers["content-type"], `${path} on ${port}`);
    }
    await same("/seaweedfsstatic/nope.css", "GET", {}, port);
    await same("/seaweedfsstatic/nope.css", "HEAD", {}, port);
  }
});

test("/stats/counter, /stats/memory and /stats/disk answer with weed's status and fields", async () => {
  for (const path of ["/stats/counter", "/stats/memory", "/stats/disk"]) {
    const [g, o] = await pair(path);
    assert.equal(o.status, g.status, path);
    assert.equal(o.headers["content-type"], g.headers["content-type"], path);
    if (g.status === 200)
      assert.deepEqual(shape(JSON.parse(o.body.toString())), shape(JSON.parse(g.body.toString())), path);
  }
});

test("OPTIONS and CORS headers on both ports match weed", async () => {
  for (const port of ["admin", "public"] as const) {
    await same("/", "OPTIONS", {}, port);
    await same(`/${fid}`, "OPTIONS", { Origin: "http://example.com" }, port);
    await same(`/${fid}`, "GET", { Origin: "http://example.com" }, port);
  }
});

test("methods weed refuses are refused alike; CONNECT gets its 400", async () => {
  for (const port of ["admin", "public"] as const) {
    // A method Node's parser does not know (FOO) is refused by it before our routers run: on the
    // public port weed answers 200, we 400; only the admin port's answer matches.
    const methods = ["TRACE", "PROPFIND", "PATCH", "MKCOL", ...(port === "admin" ? ["FOO"] : [])];
    for (const method of methods) {
      const [g, o] = await pair(`/${fid}`, method, {}, undefined, port);
      assert.equal(o.status, g.status, `${method} on ${port}`);
      assert.deepEqual(o.body.toString(), g.body.toString(), `${method} on ${port}`);
    }
  }
  // CONNECT names an authority, or (as SeaweedFS's suite sends it) a path.
  for (const target of ["example.com:443", `/${fid}`]) {
    const connect = (port: number) =>
      rawExchange(port, [`CONNECT ${target} HTTP/1.1\r\nHost: example.com\r\n\r\n`]);
    const [g, o] = await Promise.all([connect(twins.go.port), connect(twins.ours.port)]);
    assert.equal(o.status, g.status, `CONNECT ${target}`);
  }
});

test("the request id is echoed or made up, and a Server header is sent, as weed does", async () => {
  const [g, o] = await Promise.all([fetch(`${twins.go.url}/status`), fetch(`${twins.ours.url}/status`)]);
  const gid = g.headers.get("x-amz-request-id") ?? "";
  const oid = o.headers.get("x-amz-request-id") ?? "";
  assert.ok(gid.length > 0 && oid.length === gid.length, `made-up ids: weed ${gid}, ours ${oid}`);
  assert.match(o.headers.get("server") ?? "", /^SeaweedFS Volume /);
  assert.equal(o.headers.get("server")?.split(" ")[0], g.headers.get("server")?.split(" ")[0]);
  for (const path of ["/status", `/${fid}`, "/nope,zz"]) {
    const [eg, eo] = await Promise.all(
      [twins.go.url, twins.ours.url].map((u) =>
        fetch(u + path, { headers: { "x-amz-request-id": "req-123" } }),
      ),
    );
    const echoed = (r: Response) => r.headers.get("x-amz-request-id") === "req-123";
    assert.equal(echoed(eo!), echoed(eg!), `${path}: a request's own id is echoed as weed does`);
  }
});

test("the public port serves reads and refuses writes and deletes without touching the volume", async () => {
  for (const method of ["GET", "HEAD"]) {
    await same(`/${fid}`, method, {}, "public");
    await same(`/${fid}`, method, { Range: "bytes=0-3" }, "public");
  }
  const before = [fingerprint(twins.goData), fingerprint(twins.ourData)];
  for (const method of ["POST", "PUT", "DELETE"]) {
    const body = method === "DELETE" ? undefined : Buffer.from("overwrite?");
    const [g, o] = await pair(
      `/${formatFileId(VID, 0, 7, COOKIE)}`,
      method,
      { "Content-Type": "text/plain" },
      body,
      "public",
    );
    assert.equal(o.status, g.status, `${method} on the public port`);
    const [dg, dO] = await pair(`/${fid}`, method === "DELETE" ? "DELETE" : "GET", {}, undefined, "public");
    assert.equal(dO.status, dg.status, `${method} of an existing needle on the public port`);
  }
  assert.deepEqual(fingerprint(twins.goData), before[0], "weed's volume is unchanged");
  assert.deepEqual(fingerprint(twins.ourData), before[1], "our volume is unchanged");
});
