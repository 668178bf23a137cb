// Writes, deletes and the transforms of reads, next to the real pinned weed volume: the same upload
// or delete sent to both (raw, multipart, gzip, auto-compressed, ttl/ts/cm, Seaweed-* pairs, over the
// size limit, the same content again, a rotated JPEG), chunk-manifest deletes, image resize and crop
// for jpg/png/gif/webp, expired TTL needles; and a large needle read with bounded memory (ours).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import sharp from "sharp";
import { formatFileId } from "../../src/storage/needle/file-id.js";
import {
  type Answer,
  assertSameAnswer,
  COOKIE,
  fetchRaw,
  fingerprint,
  pattern,
  startTwins,
  type Twins,
  writeVolume,
} from "./twin.js";

const VID = 8;
const BIG = 128 * 1024 * 1024;
let twins: Twins;

before(async () => {
  twins = await startTwins(
    "wv-write-",
    (source) =>
      writeVolume(source, VID, [
        { key: 1, data: Buffer.from("expired long ago"), name: "old.txt", ttl: "1m" },
        { key: 2, data: Buffer.from("kept for years"), name: "kept.txt", ttl: "99y" },
        { key: 3, data: pattern(BIG, 3), name: "big.bin" },
      ]),
    ["-readMode=local", "-fileSizeLimitMB=2", "-images.fix.orientation"],
  );
});

after(async () => {
  await twins?.stop();
});

const fid = (key: number, cookie = COOKIE) => formatFileId(VID, 0, key, cookie);
let nextKey = 1000;

async function both(path: string, method: string, headers: Record<string, string> = {}, body?: Buffer) {
  return Promise.all([
    fetchRaw(twins.go.url, path, method, headers, body),
    fetchRaw(twins.ours.url, path, method, headers, body),
  ]) as Promise<[Answer, Answer]>;
}

async function same(path: string, method = "GET", headers: Record<string, string> = {}, body?: Buffer) {
  const [g, o] = await both(path, method, headers, body);
  assertSameAnswer(o, g, `${method} ${path} ${JSON.stringify(headers)}`);
  return o;
}

const without = (h: Record<string, string>, ...names: string[]) =>
  Object.fromEntries(Object.entries(h).filter(([k]) => !names.includes(k)));

/** Reads answered alike once decompressed: ETag and length aside (see upload below). */
async function sameContent(path: string) {
  for (const ae of ["", "gzip"]) {
    const [rg, ro] = await both(path, "GET", ae ? { "Accept-Encoding": ae } : {});
    const what = `GET ${path} as ${ae || "identity"}`;
    const loose = ["etag", "content-length"];
    assert.deepEqual(without(ro.headers, ...loose), without(rg.headers, ...loose), `${what}: headers`);
    const plain = (a: Answer) => (a.headers["content-encoding"] === "gzip" ? gunzipSync(a.body) : a.body);
    assert.ok(plain(ro).equals(plain(rg)), `${what}: content`);
  }
}

/**
 * Uploads to both; the answers (status, headers, JSON) must match, then the reads of the result.
 * Data both servers gzip is equal once decompressed, not byte for byte (Go's deflate is not zlib's),
 * so its CRC (the ETag) and compressed length are left out.
 */
async function upload(query: string, headers: Record<string, string>, body: Buffer, key = nextKey++) {
  // A fixed modification time unless the case sets one: the two servers' clocks may tick apart.
  const q = query.includes("ts=") ? query : `${query}${query ? "&" : "?"}ts=1700000500`;
  const path = `/${fid(key)}${q}`;
  const [g, o] = await both(path, "POST", headers, body);
  if (g.headers.etag === o.headers.etag) {
    assertSameAnswer(o, g, `POST ${path}`);
    await same(`/${fid(key)}`);
    await same(`/${fid(key)}`, "GET", { "Accept-Encoding": "gzip" });
    return { key, answer: o };
  }
  assert.equal(o.status, g.status, `POST ${path}: status`);
  assert.deepEqual(without(o.headers, "etag"), without(g.headers, "etag"), `POST ${path}: headers`);
  const json = (a: Answer) => without(JSON.parse(a.body.toString()), "eTag");
  assert.deepEqual(json(o), json(g), `POST ${path}: JSON`);
  await sameContent(`/${fid(key)}`);
  return { key, answer: o };
}

function multipart(name: string, type: string, data: Buffer, extra: Record<string, string> = {}) {
  const b = "----twin";
  const parts = [
    Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n`,
    ),
    ...Object.entries(extra).map(([k, v]) => Buffer.from(`${k}: ${v}\r\n`)),
    Buffer.from("\r\n"),
    data,
    Buffer.from(`\r\n--${b}--\r\n`),
  ];
  return { headers: { "Content-Type": `multipart/form-data; boundary=${b}` }, body: Buffer.concat(parts) };
}

/** Uploads each text as a chunk, then a manifest (cm=true) that joins them; returns the keys. */
async function uploadChunked(name: string, texts: string[]) {
  const chunks: { fid: string; offset: number; size: number }[] = [];
  const keys: number[] = [];
  let offset = 0;
  for (const t of texts) {
    const { key } = await upload("", { "Content-Type": "text/plain" }, Buffer.from(t));
    chunks.push({ fid: fid(key), offset, size: t.length });
    keys.push(key);
    offset += t.length;
  }
  const body = Buffer.from(JSON.stringify({ name, mime: "text/plain", size: offset, chunks }));
  const cm = await upload("?cm=true", { "Content-Type": "application/json" }, body);
  return { chunks: keys, manifest: cm };
}

const TEXT = Buffer.from("compressible text that repeats itself. ".repeat(100));

test("raw and multipart uploads, gzip and auto-compression get weed's answers and read back alike", async () => {
  await upload("", { "Content-Type": "application/octet-stream" }, pattern(3000, 1));
  await upload("", { "Content-Type": "text/plain" }, TEXT);
  await upload("", { "Content-Type": "text/plain", "Content-Encoding": "gzip" }, gzipSync(TEXT));
  const m = multipart("notes.txt", "text/plain", TEXT);
  await upload("", m.headers, m.body);
  const j = multipart("data.json", "application/json", Buffer.from('{"k":1}'), { "Content-MD5": "wrong" });
  await upload("", j.headers, j.body);
  const png = multipart("pic.png", "image/png", pattern(5000, 2));
  await upload("", png.headers, png.body);
});

test("ttl, ts, cm, Seaweed-* pairs and the size limit are handled as weed does", async () => {
  await upload("?ttl=3m", { "Content-Type": "text/plain" }, Buffer.from("ttl"));
  await upload("?ts=1700000000", { "Content-Type": "text/plain" }, Buffer.from("dated"));
  await upload("?ttl=bogus", { "Content-Type": "text/plain" }, Buffer.from("odd ttl"));
  await upload(
    "",
    { "Content-Type": "text/plain", "Seaweed-Color": "red", "Seaweed-X-Y": "1" },
    Buffer.from("p"),
  );
  // A chunk manifest: two chunks, then the manifest that joins them.
  const { manifest: cm } = await uploadChunked("joined.txt", ["first half, ", "second half."]);
  await sameContent(`/${fid(cm.key)}?cm=false`);
  // Over -fileSizeLimitMB=2, raw and multipart.
  const big = pattern(2 * 1024 * 1024 + 1, 4);
  await same(`/${fid(nextKey++)}`, "POST", { "Content-Type": "application/octet-stream" }, big);
  const mp = multipart("big.bin", "application/octet-stream", big);
  await same(`/${fid(nextKey++)}`, "POST", mp.headers, mp.body);
});

test("the same content again is a 204; other content over the same id is refused or taken as weed does", async () => {
  const { key } = await upload("", { "Content-Type": "text/plain" }, Buffer.from("same again"));
  const before = [fingerprint(twins.goData), fingerprint(twins.ourData)];
  const o = await same(
    `/${fid(key)}?ts=1700000500`,
    "POST",
    { "Content-Type": "text/plain" },
    Buffer.from("same again"),
  );
  assert.equal(o.status, 204);
  assert.deepEqual(
    [fingerprint(twins.goData), fingerprint(twins.ourData)],
    before,
    "an unchanged write appends nothing",
  );
  await same(
    `/${fid(key)}?ts=1700000600`,
    "POST",
    { "Content-Type": "text/plain" },
    Buffer.from("different now"),
  );
  await same(
    `/${fid(key, COOKIE + 1)}`,
    "POST",
    { "Content-Type": "text/plain" },
    Buffer.from("wrong cookie"),
  );
  await same(`/${fid(key)}`);
});

test("deletes: the JSON, cookie checks, ts, missing needles, and chunk manifests taking their chunks", async () => {
  const { key } = await upload("", { "Content-Type": "text/plain" }, Buffer.from("to be deleted"));
  await same(`/${fid(key, COOKIE + 1)}`, "DELETE");
  await same(`/${fid(key)}?ts=1700000999`, "DELETE");
  await same(`/${fid(key)}`);
  await same(`/${fid(key)}?readDeleted=true`);
  await same(`/${fid(key)}`, "DELETE");
  await same(`/${fid(424242)}`, "DELETE");
  const { chunks, manifest: cm } = await uploadChunked("m.txt", ["chunk one", "chunk two"]);
  await same(`/${fid(cm.key)}`, "DELETE");
  for (const k of [...chunks, cm.key]) {
    const o = await same(`/${fid(k)}`);
    assert.equal(o.status, 404, "the manifest and its chunks are gone");
  }
});

async function imageOf(format: "jpeg" | "png" | "gif" | "webp"): Promise<Buffer> {
  const raw = Buffer.alloc(40 * 30 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) & 0xff;
  return sharp(raw, { raw: { width: 40, height: 30, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

test("image resize and crop for jpg, png, gif and webp give weed's sizes and types", async () => {
  const sizeOf = async (a: Answer) => {
    if (a.status !== 200 || a.body.length === 0) return "none";
    try {
      const m = await sharp(a.body, { animated: true }).metadata();
      return `${m.format} ${m.width}x${m.pageHeight ?? m.height}`;
    } catch {
      return `not an image (${a.body.length} bytes)`;
    }
  };
  for (const [format, ext] of [
    ["jpeg", "jpg"],
    ["png", "png"],
    ["gif", "gif"],
    ["webp", "webp"],
  ] as const) {
    const data = await imageOf(format);
    const mp = multipart(`img.${ext}`, `image/${format}`, data);
    const { key } = await upload("", mp.headers, mp.body);
    for (const q of [
      "width=20",
      "height=10",
      "width=20&height=20",
      "width=20&height=20&mode=fit",
      "width=20&height=20&mode=fill",
      "width=400",
      "crop_x1=2&crop_y1=3&crop_x2=22&crop_y2=13",
      "crop_x1=2&crop_y1=3&crop_x2=22&crop_y2=13&width=5",
      "crop_x1=30&crop_y1=3&crop_x2=2&crop_y2=13",
      "crop_x2=400&crop_y2=400",
    ]) {
      const path = `/${VID}/${fid(key).split(",")[1]}/img.${ext}?${q}`;
      const [g, o] = await both(path, "GET");
      const what = `${format} ?${q}`;
      assert.equal(o.status, g.status, `${what}: status`);
      assert.equal(o.headers["content-type"], g.headers["content-type"], `${what}: type`);
      assert.equal(await sizeOf(o), await sizeOf(g), `${what}: size`);
    }
  }
});

test("a JPEG uploaded with an EXIF orientation is stored upright with -images.fix.orientation, as in weed", async () => {
  const raw = Buffer.alloc(40 * 20 * 3, 200);
  const rotated = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const mp = multipart("turned.jpg", "image/jpeg", rotated);
  const key = nextKey++;
  const [gw, ow] = await both(`/${fid(key)}`, "POST", mp.headers, mp.body);
  assert.equal(ow.status, gw.status);
  const [g, o] = await both(`/${fid(key)}`, "GET");
  const dims = async (b: Buffer) => {
    const m = await sharp(b).metadata();
    return `${m.width}x${m.height} orientation ${m.orientation ?? "none"}`;
  };
  assert.equal(await dims(o.body), await dims(g.body));
});

test("a needle whose TTL has run out is 404, one still alive is served, as in weed", async () => {
  for (const key of [1, 2]) {
    await same(`/${fid(key)}`);
    await same(`/${fid(key)}`, "HEAD");
  }
});

/** The peak resident memory of a process, from /proc. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

test("a large needle streams: reading it whole, slowly, raises our peak memory by far less than its size", async () => {
  const pid = twins.ours.proc.child.pid!;
  const before = peakRss(pid);
  const res = await fetch(`${twins.ours.url}/${fid(3)}`);
  assert.equal(res.status, 200);
  let received = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.length;
    // A slow reader: a server that buffered the needle would hold it all meanwhile.
    if (received % (4 << 20) < value.length) await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(received, BIG);
  const grown = peakRss(pid) - before;
  assert.ok(grown < BIG / 3, `peak memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB for a 128 MiB needle`);
});
