// security.toml over HTTP, compared with the real weed: the white list guarding writes, and read
// tokens ([jwt.signing.read]) next to write tokens. Both servers read the same security.toml from
// their working directory.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { signFileIdToken } from "../../src/security/jwt.js";
import { sameAnswer } from "../support/compare.js";
import { allocateVolume } from "../support/grpc.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

const WRITE_KEY = "sec-write-key";
const READ_KEY = "sec-read-key";
const FID = "7,0100000001";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let guarded: { go: VolumeProc; ours: VolumeProc };
let tokens: { go: VolumeProc; ours: VolumeProc };

async function pair(name: string, toml: string): Promise<{ go: VolumeProc; ours: VolumeProc }> {
  const cwd = join(scratch.dir, name);
  mkdirSync(join(cwd, "go"), { recursive: true });
  mkdirSync(join(cwd, "ours"));
  const start = () =>
    Promise.all([
      startVolume("go", cwd, join(cwd, "go"), master, ["-readMode=local"]),
      startVolume("ours", cwd, join(cwd, "ours"), master, ["-readMode=local"]),
    ]);
  // The volume is made first, without security: a white list also guards the admin gRPC calls.
  const [go0, ours0] = await start();
  await Promise.all([allocateVolume(go0.grpcPort, 7), allocateVolume(ours0.grpcPort, 7)]);
  await Promise.all([go0.proc.stop(), ours0.proc.stop()]);
  writeFileSync(join(cwd, "security.toml"), toml);
  const [go, ours] = await start();
  return { go, ours };
}

before(async () => {
  scratch = scratchDir("wv-http-security-");
  master = await startMaster(scratch.dir);
  guarded = await pair("guarded", `[guard]\nwhite_list = "10.9.9.9"\n`);
  tokens = await pair(
    "tokens",
    `[jwt.signing]\nkey = "${WRITE_KEY}"\n[jwt.signing.read]\nkey = "${READ_KEY}"\nexpires_after_seconds = 60\n`,
  );
});

after(async () => {
  for (const p of [guarded, tokens]) await Promise.all([p?.go.proc.stop(), p?.ours.proc.stop()]);
  await master?.proc.stop();
  scratch?.cleanup();
});

test("a white list that does not name the client refuses its writes and deletes, not its reads", async () => {
  const { go, ours } = guarded;
  for (const method of ["POST", "PUT", "DELETE"]) {
    await sameAnswer(go.url, ours.url, `/${FID}`, {
      method,
      body: method === "DELETE" ? undefined : Buffer.from("guarded"),
      headers: { "content-type": "text/plain" },
      only: "status",
    });
  }
  await sameAnswer(go.url, ours.url, `/${FID}`, { only: "status" });
  await sameAnswer(go.url, ours.url, "/status", { only: "status" });
  await sameAnswer(go.url, ours.url, "/stats/counter", { only: "status" });
});

test("read tokens: reads need one signed with the read key, writes one signed with the write key", async () => {
  const { go, ours } = tokens;
  const write = await signFileIdToken(WRITE_KEY, 60, FID);
  const read = await signFileIdToken(READ_KEY, 60, FID);
  const { ours: put } = await sameAnswer(go.url, ours.url, `/${FID}?jwt=${write}`, {
    method: "PUT",
    body: Buffer.from("read me with a token"),
    headers: { "content-type": "text/plain" },
    only: "status",
  });
  assert.equal(put.status, 201);
  const reads: Array<[string, Record<string, string>]> = [
    ["", {}],
    [`?jwt=${read}`, {}],
    [`?jwt=${write}`, {}],
    ["", { Authorization: `Bearer ${read}` }],
    ["", { Cookie: `AT=${read}` }],
    [`?jwt=${await signFileIdToken(READ_KEY, 60, "7,0200000002")}`, {}],
  ];
  for (const [query, headers] of reads) {
    await sameAnswer(go.url, ours.url, `/${FID}${query}`, { headers, only: "status" });
    await sameAnswer(go.url, ours.url, `/${FID}${query}`, { method: "HEAD", headers, only: "status" });
  }
  const { ours: got } = await sameAnswer(go.url, ours.url, `/${FID}?jwt=${read}`, { only: "status" });
  assert.equal(got.status, 200);
  assert.equal(got.body.toString(), "read me with a token");
});
