// Access and throttling next to the real pinned weed volume. A white list (-whiteList) guards writes,
// deletes and /stats/*; a read key ([jwt.signing.read]) guards reads, its token from the query,
// header or cookie, the fid claim checked, no leeway. concurrentUploadLimitMB and
// concurrentDownloadLimitMB hold requests over the limit for the inflight timeout, then answer 429.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { signFileIdToken } from "../../src/security/jwt.js";
import { formatFileId } from "../../src/storage/needle/file-id.js";
import {
  COOKIE,
  fetchRaw,
  fingerprint,
  pattern,
  rawExchange,
  startTwins,
  type Twins,
  writeVolume,
} from "./twin.js";

const VID = 6;
const READ_KEY = "guard-read-key";
const fid = (key: number, cookie = COOKIE) => formatFileId(VID, 0, key, cookie);

async function statuses(twins: Twins, path: string, method = "GET", headers: Record<string, string> = {}) {
  const body = method === "POST" ? Buffer.from("guarded") : undefined;
  const h = body ? { "Content-Type": "text/plain", ...headers } : headers;
  const [g, o] = await Promise.all([
    fetchRaw(twins.go.url, path, method, h, body),
    fetchRaw(twins.ours.url, path, method, h, body),
  ]);
  return { go: g.status, ours: o.status };
}

describe("a white list and a read key", () => {
  let twins: Twins;
  before(async () => {
    twins = await startTwins(
      "wv-guard-",
      (source) => writeVolume(source, VID, [{ key: 1, data: Buffer.from("guarded data"), name: "g.txt" }]),
      ["-readMode=local", "-whiteList=10.9.9.9"],
      `[jwt.signing.read]\nkey = "${READ_KEY}"\nexpires_after_seconds = 60\n`,
    );
  });
  after(async () => {
    await twins?.stop();
  });

  test("writes, deletes and /stats/* from outside the white list are refused as weed refuses them", async () => {
    const before = [fingerprint(twins.goData), fingerprint(twins.ourData)];
    for (const [path, method] of [
      [`/${fid(5)}`, "POST"],
      [`/${fid(1)}`, "DELETE"],
      ["/stats/counter", "GET"],
      ["/stats/memory", "GET"],
      ["/stats/disk", "GET"],
      ["/status", "GET"],
      ["/healthz", "GET"],
    ] as const) {
      const s = await statuses(twins, path, method);
      assert.equal(s.ours, s.go, `${method} ${path}`);
    }
    assert.deepEqual([fingerprint(twins.goData), fingerprint(twins.ourData)], before);
  });

  test("reads need a token for their file id, from the query, the header or the cookie", async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = await signFileIdToken(READ_KEY, 60, fid(1));
    const expired = await new SignJWT({ fid: fid(1) })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(now - 1)
      .sign(new TextEncoder().encode(READ_KEY));
    const cases: [string, string, Record<string, string>][] = [
      ["no token", `/${fid(1)}`, {}],
      ["query", `/${fid(1)}?jwt=${good}`, {}],
      ["header", `/${fid(1)}`, { Authorization: `Bearer ${good}` }],
      ["cookie", `/${fid(1)}`, { Cookie: `AT=${good}` }],
      [
        "a bad query token wins over a good header",
        `/${fid(1)}?jwt=bad`,
        { Authorization: `Bearer ${good}` },
      ],
      [
        "a bad header wins over a good cookie",
        `/${fid(1)}`,
        { Authorization: "Bearer bad", Cookie: `AT=${good}` },
      ],
      ["expired a second ago", `/${fid(1)}?jwt=${expired}`, {}],
      ["another fid's token", `/${fid(1)}?jwt=${await signFileIdToken(READ_KEY, 60, fid(2))}`, {}],
      ["the write key's place", `/${fid(1)}?jwt=${await signFileIdToken("other", 60, fid(1))}`, {}],
    ];
    for (const [what, path, headers] of cases) {
      for (const method of ["GET", "HEAD"]) {
        const s = await statuses(twins, path, method, headers);
        assert.equal(s.ours, s.go, `${method}: ${what}`);
      }
    }
  });
});

describe("concurrent upload and download limits", () => {
  let twins: Twins;
  const BIG = 8 * 1024 * 1024;
  before(async () => {
    twins = await startTwins(
      "wv-throttle-",
      (source) => writeVolume(source, VID, [{ key: 1, data: pattern(BIG, 1), name: "big.bin" }]),
      [
        "-readMode=local",
        "-concurrentUploadLimitMB=1",
        "-concurrentDownloadLimitMB=1",
        "-inflightUploadDataTimeout=300ms",
        "-inflightDownloadDataTimeout=300ms",
      ],
    );
  });
  after(async () => {
    await twins?.stop();
  });

  test("a download over the limit waits for the inflight timeout, then 429, then the server recovers", async () => {
    const hold = (port: number) =>
      // A reader that reads nothing: the 8 MiB answer stays in flight while the second comes.
      rawExchange(port, [`GET /${fid(1)} HTTP/1.1\r\nHost: x\r\n\r\n`], 2500);
    const held = [hold(twins.go.port), hold(twins.ours.port)];
    await new Promise((r) => setTimeout(r, 300));
    const second = await statuses(twins, `/${fid(1)}`, "GET", { Range: "bytes=0-9" });
    assert.equal(second.ours, second.go, "a second download while over the limit");
    await Promise.all(held);
    const after = await statuses(twins, `/${fid(1)}`, "GET", { Range: "bytes=0-9" });
    assert.deepEqual(after, { go: 206, ours: 206 });
  });

  test("an upload over the limit waits for the inflight timeout, then 429; type=replicate is let through", async () => {
    const slow = (port: number) =>
      rawExchange(
        port,
        [
          `POST /${fid(40)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${2 << 20}\r\n\r\n`,
          Buffer.alloc(1 << 20, 1),
        ],
        2500,
      );
    const held = [slow(twins.go.port), slow(twins.ours.port)];
    await new Promise((r) => setTimeout(r, 300));
    const second = await statuses(twins, `/${fid(41)}`, "POST");
    assert.equal(second.ours, second.go, "a second upload while over the limit");
    const replicated = await statuses(twins, `/${fid(42)}?type=replicate`, "POST");
    assert.equal(replicated.ours, replicated.go, "a replicated upload while over the limit");
    await Promise.all(held);
    const after = await statuses(twins, `/${fid(43)}`, "POST");
    assert.deepEqual(after, { go: 201, ours: 201 });
  });
});
