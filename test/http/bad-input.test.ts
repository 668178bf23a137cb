// Bad input over HTTP, sent alike to the real pinned weed volume and to ours: malformed URLs and
// fids, absurd Range values, huge or invalid headers, truncated multipart, bodies shorter or longer
// than their Content-Length, forged and expired JWTs. Each must get weed's status; afterwards both
// servers still answer and no volume has changed unless a write was acknowledged.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SignJWT } from "jose";
import { signFileIdToken } from "../../src/security/jwt.js";
import { sameAnswer } from "../support/compare.js";
import { allocateVolume } from "../support/grpc.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

const KEY = "bad-input-write-key";
const VID = 5;
const FID = "5,0112345678";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let go: VolumeProc;
let ours: VolumeProc;
let goDir: string;
let ourDir: string;

before(async () => {
  scratch = scratchDir("wv-bad-input-");
  // Both read security.toml from their working directory, as weed does.
  const cwd = join(scratch.dir, "run");
  mkdirSync(cwd);
  writeFileSync(join(cwd, "security.toml"), `[jwt.signing]\nkey = "${KEY}"\nexpires_after_seconds = 60\n`);
  goDir = join(scratch.dir, "go");
  ourDir = join(scratch.dir, "ours");
  mkdirSync(goDir);
  mkdirSync(ourDir);
  master = await startMaster(scratch.dir);
  [go, ours] = await Promise.all([
    startVolume("go", cwd, goDir, master, ["-readMode=local"]),
    startVolume("ours", cwd, ourDir, master, ["-readMode=local"]),
  ]);
  await Promise.all([allocateVolume(go.grpcPort, VID), allocateVolume(ours.grpcPort, VID)]);
  const jwt = await signFileIdToken(KEY, 60, FID);
  for (const server of [go, ours]) {
    const r = await fetch(`${server.url}/${FID}?jwt=${jwt}`, {
      method: "PUT",
      body: "the one good needle",
      headers: { "content-type": "text/x-plain" },
    });
    assert.equal(r.status, 201, await r.text());
  }
});

after(async () => {
  await Promise.all([go?.proc.stop(), ours?.proc.stop()]);
  await master?.proc.stop();
  scratch?.cleanup();
});

function volumeFiles(dir: string): string {
  return ["dat", "idx"].map((ext) => readFileSync(join(dir, `${VID}.${ext}`)).toString("base64")).join("|");
}

/** Runs `body`, then checks that both servers still answer and neither volume changed. */
async function unchanged(body: () => Promise<void>): Promise<void> {
  const before = [volumeFiles(goDir), volumeFiles(ourDir)];
  await body();
  for (const server of [go, ours]) {
    const r = await fetch(`${server.url}/${FID}`);
    assert.equal(r.status, 200, `${server.url} still serves`);
    assert.equal(await r.text(), "the one good needle");
  }
  assert.equal(volumeFiles(goDir), before[0], "weed's volume unchanged");
  assert.equal(volumeFiles(ourDir), before[1], "our volume unchanged");
}

/** Raw bytes to a server; the status codes of the answers it sent before closing (or 1.5 s). */
function rawStatuses(port: number, bytes: Buffer | string, endWrite = true): Promise<number[]> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      resolve([...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])));
    };
    const timer = setTimeout(finish, 1500);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", finish);
    socket.on("error", finish);
    socket.write(bytes);
    if (endWrite) socket.end();
  });
}

async function sameRaw(bytes: Buffer | string, what: string, endWrite = true): Promise<number[]> {
  const [g, o] = await Promise.all([
    rawStatuses(go.port, bytes, endWrite),
    rawStatuses(ours.port, bytes, endWrite),
  ]);
  assert.deepEqual(o, g, `${what}: weed answered ${JSON.stringify(g)}`);
  return o;
}

test("malformed URLs and fids get weed's status", async () => {
  const paths = [
    "/abc",
    "/5,",
    "/5,zz",
    "/5,1",
    "/,0112345678",
    "/5,011234567800000000000000000001",
    "/99999999999,0112345678",
    "/-1,0112345678",
    "/5/",
    "/5/0112345678/a/b/c",
    "/5,01g2345678",
    "/5,0112345678.",
    "/5,0112345678%00",
    "/%zz",
    "/5,0112345678?readDeleted=maybe",
    "/../../etc/passwd",
    "/5/../../etc/passwd",
    "/5,0112345679",
    `/${"9".repeat(5000)},01`,
  ];
  await unchanged(async () => {
    for (const path of paths) {
      for (const method of ["GET", "HEAD", "DELETE"])
        await sameAnswer(go.url, ours.url, path, { method, only: "status" });
    }
    // Writes to malformed fids, with a token that would be good for the real one.
    const jwt = await signFileIdToken(KEY, 60, FID);
    for (const path of paths.slice(0, 10)) {
      await sameAnswer(go.url, ours.url, `${path}?jwt=${jwt}`, {
        method: "PUT",
        body: Buffer.from("x"),
        only: "status",
      });
    }
  });
});

test("absurd Range values are answered as weed answers them", async () => {
  const ranges = [
    "bytes=99999999999999999999-",
    "bytes=-99999999999999999999",
    "bytes=0-99999999999999999999",
    "bytes=1-2-3",
    "bytes=--1",
    "bytes= 0-1",
    "bytes=0-1,",
    `bytes=${Array.from({ length: 500 }, () => "0-0").join(",")}`,
    `bytes=${"1".repeat(4000)}-`,
    "bytes=0x10-0x20",
    "bytes=-0,-0",
  ];
  await unchanged(async () => {
    for (const range of ranges) {
      await sameAnswer(go.url, ours.url, `/${FID}`, { headers: { Range: range } });
    }
  });
});

test("huge or invalid request headers are refused as weed refuses them", async () => {
  const get = (headers: string) => `GET /${FID} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;
  await unchanged(async () => {
    await sameRaw(get(`X-Big: ${"a".repeat(1100 * 1024)}\r\n`), "a header over 1 MiB");
    await sameRaw(get("no colon here\r\n"), "a header line without a colon");
    await sameRaw(get("Bad Name: x\r\n"), "a space in a header name");
    await sameRaw(get("Content-Length: abc\r\n"), "a non-numeric Content-Length");
    await sameRaw(get("Content-Length: 1\r\nContent-Length: 2\r\n"), "two Content-Lengths");
    await sameRaw(`GET /${FID} HTTP/9.9\r\nHost: x\r\n\r\n`, "an unknown HTTP version");
    await sameRaw("\x00\x01\x02garbage\r\n\r\n", "not HTTP at all");
    const connectStatuses = await sameRaw(`CONNECT /${FID} HTTP/1.1\r\nHost: x\r\n\r\n`, "CONNECT");
    assert.deepEqual(connectStatuses, [400], "weed refuses CONNECT with 400");
  });
});

test("truncated multipart and bodies that disagree with their Content-Length write nothing", async () => {
  const jwt = await signFileIdToken(KEY, 60, FID);
  const fresh = "5,0287654321";
  const freshJwt = await signFileIdToken(KEY, 60, fresh);
  await unchanged(async () => {
    // A multipart body that stops before its closing boundary.
    const truncated =
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhalf a fi';
    await sameAnswer(go.url, ours.url, `/${fresh}?jwt=${freshJwt}`, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=XyZ" },
      body: Buffer.from(truncated),
      only: "status",
    });
    // A body shorter than its Content-Length, the connection then closed by the client.
    const short = `POST /${fresh}?jwt=${freshJwt} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nonly a few bytes`;
    await sameRaw(short, "a body shorter than Content-Length");
    // The same, but the client keeps the connection open: the server's wait must not write either.
    await sameRaw(short, "a short body on an open connection", false);
    for (const server of [go, ours]) assert.equal((await fetch(`${server.url}/${fresh}`)).status, 404);
  });
  // A body longer than its Content-Length: the first bytes are the needle, the rest a bad request.
  const long = `PUT /${FID}?jwt=${jwt} HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-plain\r\nContent-Length: 19\r\n\r\nthe one good needleAND THEN SOME GARBAGE\r\n\r\n`;
  await unchanged(async () => {
    const statuses = await sameRaw(long, "a body longer than Content-Length");
    assert.equal(statuses[0], 204, "the same content again is unchanged");
  });
});

test("forged and expired JWTs are refused with weed's answer", async () => {
  const now = Math.floor(Date.now() / 1000);
  const sign = (key: string, claims: Record<string, unknown>, alg = "HS256") =>
    new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(key));
  const tokens = {
    none: "",
    garbage: "abc.def.ghi",
    "wrong key": await sign("not-the-key", { fid: FID, exp: now + 60 }),
    expired: await sign(KEY, { fid: FID, exp: now - 5 }),
    "not yet valid": await sign(KEY, { fid: FID, exp: now + 600, nbf: now + 300 }),
    "another fid": await sign(KEY, { fid: "5,0200000000", exp: now + 60 }),
    "alg none": `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(
      JSON.stringify({ fid: FID, exp: now + 60 }),
    ).toString("base64url")}.`,
  };
  await unchanged(async () => {
    for (const [what, token] of Object.entries(tokens)) {
      for (const method of ["PUT", "DELETE"]) {
        const { ours: o } = await sameAnswer(go.url, ours.url, `/${FID}${token ? `?jwt=${token}` : ""}`, {
          method,
          body: method === "PUT" ? Buffer.from("forged write") : undefined,
          only: "status",
        });
        assert.equal(o.status, 401, `${what} ${method}`);
        // The same token in the Authorization header.
        await sameAnswer(go.url, ours.url, `/${FID}`, {
          method,
          headers: token ? { Authorization: `Bearer ${token}` } : {},
          body: method === "PUT" ? Buffer.from("forged write") : undefined,
          only: "status",
        });
      }
    }
  });
});
