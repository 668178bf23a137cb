// Bad input, sent alike to the real pinned weed volume and to ours: malformed URLs and file ids,
// huge or invalid headers, truncated multipart, bodies shorter or longer than their Content-Length,
// absurd ranges, forged or expired JWTs. Each must get weed's status code; afterwards both servers
// still answer, and a volume changes only where weed's changed too (never on a refusal).
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, test } from "node:test";
import { SignJWT } from "jose";
import { signFileIdToken } from "../../src/security/jwt.js";
import { formatFileId } from "../../src/storage/needle/file-id.js";
import {
  assertSameAnswer,
  COOKIE,
  fetchRaw,
  fingerprint,
  pattern,
  type RawAnswer,
  rawExchange,
  startTwins,
  type Twins,
  writeVolume,
} from "./twin.js";

const VID = 5;
const KEY = "bad-input-signing-key";
let twins: Twins;
/** Differences from weed found by the running test: all are reported at its end, not just the first. */
let differences: string[] = [];

function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    differences.push(`${what}: ours ${JSON.stringify(actual)}, weed ${JSON.stringify(expected)}`);
}

beforeEach(() => {
  differences = [];
});

afterEach(() => {
  assert.deepEqual(differences, [], `differences from weed:\n${differences.join("\n")}`);
});

before(async () => {
  twins = await startTwins(
    "wv-bad-input-",
    (source) =>
      writeVolume(source, VID, [
        { key: 1, data: Buffer.from("hello, bad input"), name: "a.txt" },
        { key: 2, data: pattern(5000, 2), name: "b.bin" },
      ]),
    ["-readMode=local"],
    `[jwt.signing]\nkey = "${KEY}"\nexpires_after_seconds = 60\n`,
  );
});

after(async () => {
  await twins?.stop();
});

const fid = (key: number, cookie = COOKIE) => formatFileId(VID, 0, key, cookie);
let nextKey = 100;
/** A fresh file id for each write, so that no case depends on another. */
const freshFid = () => fid(nextKey++);

interface Outcome {
  status: number;
  changed: boolean;
}

/** Runs `send` against weed and ours at once; returns each one's status and whether its volume changed. */
async function both(
  what: string,
  send: (port: number) => Promise<number>,
): Promise<{ go: Outcome; ours: Outcome }> {
  const before = [fingerprint(twins.goData), fingerprint(twins.ourData)];
  const [g, o] = await Promise.all([send(twins.go.port), send(twins.ours.port)]);
  const afterwards = [fingerprint(twins.goData), fingerprint(twins.ourData)];
  const go = { status: g, changed: JSON.stringify(before[0]) !== JSON.stringify(afterwards[0]) };
  const ours = { status: o, changed: JSON.stringify(before[1]) !== JSON.stringify(afterwards[1]) };
  expectSame(ours.status, go.status, `${what}: status`);
  expectSame(ours.changed, go.changed, `${what}: volume changed`);
  if (ours.status >= 400 || ours.status === 0) assert.equal(ours.changed, false, `${what}: a refusal wrote`);
  await stillServing(what);
  return { go, ours };
}

async function stillServing(what: string): Promise<void> {
  assert.equal(twins.ours.proc.child.exitCode, null, `${what}: our server exited`);
  const r = await fetch(`${twins.ours.url}/${fid(1)}`);
  assert.equal(r.status, 200, `${what}: our server no longer reads`);
  assert.equal(await r.text(), "hello, bad input");
}

/** Every status line a raw exchange got, in order: a connection may carry more than one answer. */
const statuses = (a: RawAnswer): string =>
  [...a.text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => m[1]).join(",") || "none";

async function rawBoth(what: string, pieces: (string | Buffer)[], end = false) {
  const lines = new Map<number, string>();
  const out = await both(what, async (port) => {
    const a = await rawExchange(port, pieces, end ? 1500 : 800, end);
    lines.set(port, statuses(a));
    return a.status;
  });
  expectSame(lines.get(twins.ours.port), lines.get(twins.go.port), `${what}: status lines`);
  return out;
}

const auth = async (f: string) => `Bearer ${await signFileIdToken(KEY, 60, f)}`;

test("malformed URLs and file ids get weed's status on every method", async () => {
  const paths = [
    "/,",
    "/abc",
    `/${VID},`,
    `/${VID},zz`,
    `/${VID},0`,
    `/${VID},1234`,
    `/${VID},${"ab".repeat(20)}`,
    `/${VID},01637037d6_`,
    `/${VID},01637037d6_x`,
    `/x,01637037d6`,
    "/-1,01637037d6",
    "/4294967296,01637037d6",
    "/99999999999999999999,01637037d6",
    `/${VID}/`,
    `/${VID}/zz/name.txt`,
    `//${fid(1)}`,
    `/${fid(1)}/`,
    `/${fid(1)}.`,
    `/${fid(1)}?%zz`,
    `/${fid(1)}?a=%`,
    "/%zz",
    `/${"a".repeat(8000)}`,
  ];
  for (const path of paths) {
    for (const method of ["GET", "HEAD", "DELETE", "POST", "PUT"]) {
      const body = method === "POST" || method === "PUT" ? Buffer.from("x") : undefined;
      const headers: Record<string, string> = body ? { "Content-Type": "text/plain" } : {};
      const what = `${method} ${path.slice(0, 60)}`;
      await both(
        what,
        async (port) => (await fetchRaw(`http://127.0.0.1:${port}`, path, method, headers, body)).status,
      );
    }
  }
});

test("request lines and headers weed refuses are refused alike", async () => {
  const get = `GET /${fid(1)} HTTP/1.1\r\nHost: x\r\n`;
  const cases: [string, string][] = [
    ["garbage request line", "HELLO\r\n\r\n"],
    ["no version", `GET /${fid(1)}\r\n\r\n`],
    ["unknown version", `GET /${fid(1)} HTTP/9.9\r\nHost: x\r\n\r\n`],
    ["no Host", `GET /${fid(1)} HTTP/1.1\r\n\r\n`],
    ["two Hosts", `${get}Host: y\r\n\r\n`],
    ["header without a colon", `${get}NoColonHere\r\n\r\n`],
    ["space before the colon", `${get}X-Bad : v\r\n\r\n`],
    ["control byte in a name", `${get}X-B\x01d: v\r\n\r\n`],
    ["a header of 2 MiB", `${get}X-Huge: ${"h".repeat(2 << 20)}\r\n\r\n`],
    ["a million bytes of small headers", `${get}${"X-Many: 0123456789\r\n".repeat(60_000)}\r\n`],
    ["Content-Length not a number", `${get}Content-Length: abc\r\n\r\n`],
    ["negative Content-Length", `${get}Content-Length: -5\r\n\r\n`],
    ["two different Content-Lengths", `${get}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`],
    ["unknown Transfer-Encoding", `${get}Transfer-Encoding: bogus\r\n\r\n`],
    ["bad chunk size", `${get}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`],
  ];
  for (const [what, request] of cases) await rawBoth(what, [request]);
});

test("uploads with bad bodies: truncated multipart, short or long Content-Length", async () => {
  const multipart = (f: string, body: string, length?: number) =>
    `POST /${f} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authFor.get(f)}\r\n` +
    "Content-Type: multipart/form-data; boundary=XyZ\r\n" +
    `Content-Length: ${length ?? Buffer.byteLength(body)}\r\n\r\n${body}`;
  const authFor = new Map<string, string>();
  const prepare = async () => {
    const f = freshFid();
    authFor.set(f, await auth(f));
    return f;
  };
  const part = '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\n';

  let f = await prepare();
  await rawBoth("multipart cut inside the part", [multipart(f, `${part}some data with no end`)]);
  f = await prepare();
  await rawBoth("multipart cut inside the part headers", [multipart(f, "--XyZ\r\nContent-Dispos")]);
  f = await prepare();
  await rawBoth("multipart with only a closing boundary", [multipart(f, "--XyZ--\r\n")]);
  f = await prepare();
  await rawBoth("multipart without its boundary", [multipart(f, "no boundary anywhere")]);
  f = await prepare();
  await rawBoth(
    "multipart body shorter than its length, then closed",
    [multipart(f, `${part}abc`, 500)],
    true,
  );
  f = await prepare();
  await rawBoth("multipart body shorter than its length, left open", [multipart(f, `${part}abc`, 500)]);

  const raw = (f: string, body: string, length: number) =>
    `PUT /${f} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authFor.get(f)}\r\n` +
    `Content-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n${body}`;
  f = await prepare();
  await rawBoth("raw body shorter than its length, then closed", [raw(f, "0123456789", 100)], true);
  f = await prepare();
  await rawBoth("raw body shorter than its length, left open", [raw(f, "0123456789", 100)]);
  f = await prepare();
  // The extra bytes are the start of a next request, a malformed one.
  await rawBoth("raw body longer than its length", [raw(f, "0123456789 and then some more", 10)]);
  f = await prepare();
  await rawBoth(
    "chunked body cut before its last chunk",
    [
      `PUT /${f} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authFor.get(f)}\r\n` +
        "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ],
    true,
  );
});

test("absurd Range values are answered as weed answers them", async () => {
  const ranges = [
    "bytes=99999999999999999999-",
    "bytes=-99999999999999999999",
    "bytes=0-99999999999999999999",
    "bytes=18446744073709551615-18446744073709551616",
    "bytes=9223372036854775807-",
    "bytes=--1",
    "bytes=1-0",
    "bytes=0--5",
    "bytes= 0 - 4 ",
    "bytes=0-4,,,",
    "bytes=0x10-0x20",
    "bytes=1e3-2e3",
    `bytes=${Array.from({ length: 2000 }, (_, i) => `${i}-${i}`).join(",")}`,
    `bytes=${"0".repeat(5000)}-1`,
    "bytes=0-4\u00ff",
  ];
  for (const range of ranges) {
    for (const key of [1, 2]) {
      for (const method of ["GET", "HEAD"]) {
        const path = `/${fid(key)}`;
        const headers = { Range: range };
        const [g, o] = await Promise.all([
          fetchRaw(twins.go.url, path, method, headers),
          fetchRaw(twins.ours.url, path, method, headers),
        ]);
        assertSameAnswer(o, g, `${method} ${path} Range: ${range.slice(0, 60)}`);
      }
    }
  }
  await stillServing("ranges");
});

test("forged, expired, misdirected and malformed JWTs are refused as weed refuses them", async () => {
  const secret = (k: string) => new TextEncoder().encode(k);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const tokens: [string, (f: string) => Promise<string>][] = [
    ["another key", (f) => signFileIdToken("not-the-key", 60, f)],
    ["another file id", () => signFileIdToken(KEY, 60, fid(99))],
    [
      "expired a second ago",
      (f) =>
        new SignJWT({ fid: f })
          .setProtectedHeader({ alg: "HS256" })
          .setExpirationTime(now - 1)
          .sign(secret(KEY)),
    ],
    [
      "not valid yet",
      (f) =>
        new SignJWT({ fid: f })
          .setProtectedHeader({ alg: "HS256" })
          .setNotBefore(now + 3600)
          .setExpirationTime(now + 7200)
          .sign(secret(KEY)),
    ],
    ["alg none", async (f) => `${b64({ alg: "none", typ: "JWT" })}.${b64({ fid: f, exp: now + 60 })}.`],
    ["no fid claim", () => new SignJWT({}).setProtectedHeader({ alg: "HS256" }).sign(secret(KEY))],
    ["garbage", async () => "not.a.jwt"],
    ["empty", async () => ""],
    ["a signature cut short", async (f) => (await signFileIdToken(KEY, 60, f)).slice(0, -5)],
  ];
  for (const [what, make] of tokens) {
    for (const where of ["header", "query", "cookie"] as const) {
      for (const method of ["POST", "DELETE"]) {
        const f = method === "DELETE" ? fid(2) : freshFid();
        const token = await make(f);
        const headers: Record<string, string> = { "Content-Type": "text/plain" };
        let path = `/${f}`;
        if (where === "header") headers.Authorization = `Bearer ${token}`;
        else if (where === "query") path += `?jwt=${encodeURIComponent(token)}`;
        else headers.Cookie = `AT=${token}`;
        const body = method === "POST" ? Buffer.from("should not be written") : undefined;
        await both(
          `${method} with a JWT ${what} in the ${where}`,
          async (port) => (await fetchRaw(`http://127.0.0.1:${port}`, path, method, headers, body)).status,
        );
      }
    }
  }
  // A good token still writes on both: the refusals above were the token's doing.
  const f = freshFid();
  const token = await auth(f);
  const { ours } = await both(
    "a good token",
    async (port) =>
      (
        await fetchRaw(
          `http://127.0.0.1:${port}`,
          `/${f}`,
          "POST",
          { Authorization: token, "Content-Type": "text/plain" },
          Buffer.from("ok"),
        )
      ).status,
  );
  assert.equal(ours.status, 201);
  assert.equal(ours.changed, true);
});
