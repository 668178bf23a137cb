// Reads measured against the real pinned weed: one volume directory, written here with needles of
// every kind (named, typed, untyped, paired, gzip-stored, large, chunk manifest, empty, deleted), is
// served by weed volume and by ours, and every request of a matrix (ranges, conditionals, HEAD,
// overrides, dl, Accept-Encoding, the URL forms) must get the same status, headers and body from
// both. A second volume with damaged needles checks that damaged data is never served as good.
import assert from "node:assert/strict";
import { closeSync, cpSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { formatFileId } from "../../src/storage/needle/file-id.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";
import { type Answer, assertSameAnswer, COOKIE, fetchRaw, pattern, type Spec, writeVolume } from "./twin.js";

const VID = 5;
const DAMAGED_VID = 6;
const V2_VID = 7;

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let go: VolumeProc;
let ours: VolumeProc;

const text = Buffer.from("hello-volume-server-read-path-0123456789abcdef");
const chunkA = Buffer.from("first chunk of a manifest file / ".repeat(4));
const chunkB = Buffer.from("second chunk, which ends the file.");
const SPECS: Spec[] = [
  { key: 1, data: text, name: "hello.txt" },
  { key: 2, data: Buffer.from("<!DOCTYPE html><html><body>sniffed</body></html>") },
  { key: 3, data: pattern(3000, 3) },
  { key: 4, data: Buffer.from('{"a":1}'), name: "data.json", mime: "application/octet-stream" },
  { key: 5, data: pattern(700, 5), name: "pic.bin", mime: "image/x-custom" },
  {
    key: 6,
    data: text,
    name: "paired.txt",
    pairs: JSON.stringify({
      Color: "red",
      "Cache-Control": "max-age=5",
      "Content-Disposition": "attachment; filename=p.txt",
    }),
  },
  {
    key: 7,
    data: gzipSync(Buffer.from("gzip stored text ".repeat(40))),
    mime: "text/plain",
    compressed: true,
  },
  { key: 8, data: pattern(3 * 1024 * 1024 + 77, 8), name: "big.bin" },
  { key: 9, data: pattern(2 * 1024 * 1024 + 5, 9) },
  { key: 10, data: Buffer.from("not gzip at all"), compressed: true, name: "plain.txt" },
  { key: 11, data: chunkA },
  { key: 12, data: chunkB },
  { key: 14, data: Buffer.alloc(0), name: "empty.txt" },
  { key: 15, data: text, name: 'my file ü "q".txt' },
  { key: 16, data: text, name: "gone.txt", deleted: true },
  { key: 17, data: Buffer.from("%PDF-1.4 fake"), mime: "" },
  { key: 18, data: text, pairs: '{"X-Num":5,"X-Uni":"h\u00e9llo \u4e16","Bad Name":"x","X-Trim":"  pad  "}' },
  { key: 19, data: Buffer.from("<html>typed by a pair</html>"), pairs: '{"Content-Type":"text/x-pair"}' },
  { key: 20, data: pattern(3000, 20), pairs: '{"Content-Encoding":"gzip","ETag":""pair-etag""}' },
  { key: 21, data: text, pairs: "not json" },
];
SPECS.push({
  key: 13,
  manifest: true,
  name: "joined.txt",
  data: Buffer.from(
    JSON.stringify({
      name: "joined.txt",
      mime: "text/plain",
      size: chunkA.length + chunkB.length,
      chunks: [
        { fid: formatFileId(VID, 0, 11, COOKIE), offset: 0, size: chunkA.length },
        { fid: formatFileId(VID, 0, 12, COOKIE), offset: chunkA.length, size: chunkB.length },
      ],
    }),
  ),
});

/** Flips bytes of a needle's data: `at` counts from the start of the data. */
function damage(datFile: string, recordOffset: number, at: number): void {
  const fd = openSync(datFile, "r+");
  try {
    writeSync(fd, Buffer.from([0x5a, 0xa5]), 0, 2, recordOffset + 16 + 4 + at);
  } finally {
    closeSync(fd);
  }
}

before(async () => {
  scratch = scratchDir("wv-needle-read-");
  const source = join(scratch.dir, "source");
  mkdirSync(source);
  writeVolume(source, VID, SPECS);
  const damaged = writeVolume(source, DAMAGED_VID, [
    { key: 1, data: pattern(3 * 1024 * 1024, 1), name: "late.bin" },
    { key: 2, data: pattern(3 * 1024 * 1024, 2), name: "early.bin" },
    { key: 3, data: pattern(5000, 3), name: "small.bin" },
    { key: 4, data: pattern(6 * 1024 * 1024, 4), name: "huge.bin" },
  ]);
  writeVolume(
    source,
    V2_VID,
    SPECS.filter((s) => [1, 3, 6, 7, 8, 9].includes(s.key)),
    2,
  );
  const dat = join(source, `${DAMAGED_VID}.dat`);
  damage(dat, damaged.get(1)!.offset, 3 * 1024 * 1024 - 10);
  damage(dat, damaged.get(2)!.offset, 100);
  damage(dat, damaged.get(3)!.offset, 4000);
  damage(dat, damaged.get(4)!.offset, 6 * 1024 * 1024 - 10);
  master = await startMaster(scratch.dir);
  const goDir = join(scratch.dir, "go-data");
  const ourDir = join(scratch.dir, "our-data");
  cpSync(source, goDir, { recursive: true });
  cpSync(source, ourDir, { recursive: true });
  [go, ours] = await Promise.all([
    startVolume("go", scratch.dir, goDir, master, ["-readMode=local"]),
    startVolume("ours", scratch.dir, ourDir, master, ["-readMode=local"]),
  ]);
});

after(async () => {
  await Promise.all([go?.proc.stop(), ours?.proc.stop()]);
  await master?.proc.stop();
  scratch?.cleanup();
});

async function same(path: string, method = "GET", headers: Record<string, string> = {}): Promise<Answer> {
  const [g, o] = await Promise.all([
    fetchRaw(go.url, path, method, headers),
    fetchRaw(ours.url, path, method, headers),
  ]);
  const what = `${method} ${path} ${JSON.stringify(headers)}`;
  if (headers["Range"]?.includes(",") && [fid(13), slashed(13)].some((f) => path.startsWith(`/${f}`))) {
    // weed reads a chunk manifest's ranges through a pipe whose goroutine still moves the read position
    // while the next range seeks (a data race in its chunked reader), so its later parts sometimes hold
    // the wrong bytes. Ours must hold the right ones and otherwise answer as weed does.
    const whole = Buffer.concat([chunkA, chunkB]);
    assert.ok(o.body.equals(withPartsFrom(o, whole).body), `${what}: every part holds its range's bytes`);
    assertSameAnswer(o, withPartsFrom(g, whole), what);
    return o;
  }
  assertSameAnswer(o, g, what);
  return o;
}

/** The multipart answer `a` with each part's data replaced by the bytes of `whole` its Content-Range names. */
function withPartsFrom(a: Answer, whole: Buffer): Answer {
  const body = Buffer.from(a.body);
  for (const m of a.body
    .toString("latin1")
    .matchAll(/Content-Range: bytes (\d+)-(\d+)\/\d+\r\n(?:[^\r\n]+\r\n)*\r\n/g)) {
    whole.copy(body, m.index + m[0].length, Number(m[1]), Number(m[2]) + 1);
  }
  return { ...a, body };
}

const fid = (key: number, cookie = COOKIE) => formatFileId(VID, 0, key, cookie);
const slashed = (key: number) => fid(key).replace(",", "/");

const RANGES = [
  "bytes=0-4",
  "bytes=2-",
  "bytes=-3",
  "bytes=0-1,4-5",
  "bytes=0-10,5-15",
  "bytes=0-10,5-55",
  "bytes=999999999-",
  "bytes=-0",
  "bytes=abc",
  "bytes=5-2",
  "bytes=",
  "bits=0-1",
  "bytes=0-0,-1",
];

test("plain reads, HEAD, 404s and the URL forms match weed", async () => {
  for (const s of SPECS) {
    await same(`/${fid(s.key)}`);
    await same(`/${fid(s.key)}`, "HEAD");
    await same(`/${slashed(s.key)}`);
    await same(`/${slashed(s.key)}/report.txt`);
    await same(`/${slashed(s.key)}/noext`);
    await same(`/${fid(s.key)}.jpg`);
    await same(`/${fid(s.key)}.html`, "HEAD");
    await same(`/${fid(s.key, COOKIE + 1)}`);
    await same(`/${fid(s.key, COOKIE + 1)}`, "HEAD");
  }
  for (const key of [1, 3, 8, 9]) {
    // Transforms of what is not an image give the data back as it is.
    await same(`/${fid(key)}.png?width=10`);
    await same(`/${fid(key)}.jpg?crop_x1=0&crop_y1=0&crop_x2=5&crop_y2=5`, "HEAD");
    await same(`/${fid(key)}?width=10`, "GET", { Range: "bytes=0-4" });
    await same(`/${slashed(key)}/x.gif?height=3`, "GET", { Range: "bytes=2-" });
  }
  await same(`/${fid(99)}`);
  await same(`/${fid(99)}`, "HEAD");
  await same(`/${fid(16)}?readDeleted=true`);
  await same(`/${VID},zz`);
  await same(`/${VID},zz`, "HEAD");
});

test("byte ranges, If-Range and multipart answers match weed", async () => {
  for (const s of SPECS) {
    for (const range of RANGES) await same(`/${fid(s.key)}`, "GET", { Range: range });
    await same(`/${fid(s.key)}`, "HEAD", { Range: "bytes=0-4" });
    await same(`/${fid(s.key)}`, "GET", { Range: "bytes=1-3", "If-Range": "Tue, 14 Nov 2023 22:15:23 GMT" });
    await same(`/${fid(s.key)}`, "GET", { Range: "bytes=1-3", "If-Range": '"00000000"' });
  }
  const big = SPECS.find((s) => s.key === 8)!.data.length;
  for (const range of [
    `bytes=${big - 100}-`,
    "bytes=65530-65545",
    "bytes=1000000-1100000",
    "bytes=0-3,2000000-2000010,-7",
    `bytes=0-${big - 1}`,
  ]) {
    await same(`/${fid(8)}`, "GET", { Range: range });
    await same(`/${fid(9)}`, "GET", { Range: range });
  }
  const etag = (await same(`/${fid(8)}`, "HEAD")).headers["etag"]!;
  await same(`/${fid(8)}`, "GET", { Range: "bytes=10-20", "If-Range": etag });
  await same(`/${fid(1)}`, "GET", { Range: "bytes=10-20", "If-Range": `W/${etag}` });
  // A gzip-stored needle's ranges cover the bytes sent: compressed or not by Accept-Encoding.
  for (const ae of ["gzip", "identity"]) {
    await same(`/${fid(7)}`, "GET", { Range: "bytes=0-9", "Accept-Encoding": ae });
    await same(`/${fid(7)}`, "GET", { Range: "bytes=0-9,20-29", "Accept-Encoding": ae });
  }
});

test("conditional requests match weed", async () => {
  const etag = (await same(`/${fid(1)}`)).headers["etag"]!;
  for (const key of [1, 8, 13]) {
    await same(`/${fid(key)}`, "GET", { "If-None-Match": etag });
    await same(`/${fid(key)}`, "HEAD", { "If-None-Match": etag });
    await same(`/${fid(key)}`, "GET", { "If-None-Match": `W/${etag}, "other"` });
    await same(`/${fid(key)}`, "GET", { "If-None-Match": "*" });
    await same(`/${fid(key)}`, "GET", { "If-Modified-Since": "Tue, 14 Nov 2023 22:15:23 GMT" });
    await same(`/${fid(key)}`, "GET", { "If-Modified-Since": "Tue, 14 Nov 2023 22:15:22 GMT" });
    await same(`/${fid(key)}`, "GET", {
      "If-Modified-Since": "Wed, 15 Nov 2023 00:00:00 GMT",
      "If-None-Match": '"x"',
    });
  }
});

test("content type, disposition, response-* overrides and dl match weed", async () => {
  const queries = [
    "dl=t",
    "dl=true",
    "dl=1",
    "dl=0",
    "dl=yes",
    "dl=",
    "response-content-type=text/plain&response-cache-control=no-store&dl=true",
    "response-content-language=fr&response-expires=Thu,+01+Jan+2099+00:00:00+GMT",
    "Response-Content-Disposition=inline&dl=1",
    "response-content-encoding=br",
    "response-content-type=",
  ];
  for (const key of [1, 2, 3, 6, 8, 13, 15, 17]) {
    for (const q of queries) {
      await same(`/${fid(key)}?${q}`);
      await same(`/${slashed(key)}/a%20b.txt?${q}`, "HEAD");
    }
    await same(`/${slashed(key)}/r%C3%A9sum%C3%A9.pdf?dl=1`);
    await same(`/${fid(key)}?response-content-type=application/json`, "GET", { Range: "bytes=0-1,3-4" });
  }
});

test("a version 2 volume reads as in weed", async () => {
  for (const key of [1, 3, 6, 7, 8, 9]) {
    const path = `/${formatFileId(V2_VID, 0, key, COOKIE)}`;
    await same(path);
    await same(path, "HEAD");
    for (const range of ["bytes=0-4", "bytes=0-1,4-5", "bytes=1500000-1500100", "bytes=-10"]) {
      await same(path, "GET", { Range: range });
    }
  }
});

test("pair headers: odd values, a pair type or encoding or ETag, match weed", async () => {
  for (const key of [18, 19, 20, 21]) {
    await same(`/${fid(key)}`);
    await same(`/${fid(key)}`, "HEAD");
    for (const range of ["bytes=0-1,4-5", "bytes=0-2000,2100-2999", "bytes=3-9"]) {
      await same(`/${fid(key)}`, "GET", { Range: range });
    }
    await same(`/${fid(key)}`, "GET", { Range: "bytes=3-9", "If-Range": '"pair-etag"' });
  }
});

test("gzip-stored needles go out compressed only to clients that accept gzip, as in weed", async () => {
  for (const key of [7, 10]) {
    for (const ae of ["gzip", "identity", "gzip, deflate, br", "br", ""]) {
      const headers: Record<string, string> = ae === "" ? {} : { "Accept-Encoding": ae };
      await same(`/${fid(key)}`, "GET", headers);
      await same(`/${fid(key)}`, "HEAD", headers);
    }
  }
});

test("chunk manifests are read as the file they describe, or raw with cm=false, as in weed", async () => {
  await same(`/${fid(13)}?cm=false`);
  await same(`/${slashed(13)}/other.bin`);
  await same(`/${fid(13)}`, "GET", { Range: `bytes=${chunkA.length - 3}-${chunkA.length + 2}` });
});

test("damaged needles are never served as good data, and fail as in weed", async () => {
  const dfid = (key: number) => formatFileId(DAMAGED_VID, 0, key, COOKIE);
  const both = (key: number, method: string, headers: Record<string, string> = {}) =>
    Promise.all([
      fetchRaw(go.url, `/${dfid(key)}`, method, headers),
      fetchRaw(ours.url, `/${dfid(key)}`, method, headers),
    ]);
  // Whole reads of data within one read page (4 MiB) are checked before anything goes out: a 500
  // with the error as text, the needle's validators kept.
  for (const key of [1, 2, 3]) {
    const [g, o] = await both(key, "GET");
    assert.equal(o.status, 500, `damaged needle ${key}`);
    assert.equal(o.aborted, false);
    const { "content-length": _g, ...gHeaders } = g.headers;
    const { "content-length": _o, ...oHeaders } = o.headers;
    assert.deepEqual(oHeaders, gHeaders, `damaged needle ${key}: headers`);
    assert.equal(g.status, 500);
  }
  // Larger data streams: damage in its last piece cuts the body short.
  const [g4, o4] = await both(4, "GET");
  assert.ok(o4.aborted && g4.aborted, "a damaged 6 MiB needle's read is cut off");
  assert.equal(o4.status, 200);
  assert.ok(o4.body.length < 6 * 1024 * 1024);
  // A range of a damaged needle, even one far from the damage, is never served.
  for (const key of [1, 2, 3, 4]) {
    for (const range of ["bytes=0-9", "bytes=4500-4600", "bytes=0-1,5-6"]) {
      const [g, o] = await both(key, "GET", { Range: range });
      assert.ok(o.aborted, `range ${range} of damaged needle ${key} is not served`);
      assert.equal(o.aborted, g.aborted);
      assert.equal(o.body.length, 0);
    }
  }
  // HEAD of a large needle reads no data; of a small one, all of it.
  await same(`/${dfid(1)}`, "HEAD");
  await same(`/${dfid(3)}`, "HEAD");
});
