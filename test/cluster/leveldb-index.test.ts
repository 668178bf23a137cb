// -index=leveldb end to end: uploads land in a .ldb beside the .idx, survive a restart (reads
// after it come from the same LevelDB), and the Go server reads the same directory afterwards.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Master, scratchDir, startMaster, startVolume, waitFor } from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
const data = () => join(scratch.dir, "data");

before(async () => {
  scratch = scratchDir("wv-ldb-");
  master = await startMaster(scratch.dir);
  mkdirSync(data());
});

after(async () => {
  await master?.proc.stop();
  scratch?.cleanup();
});

async function assignAndUpload(body: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const a = (await (await fetch(`${master.url}/dir/assign`)).json()) as { fid?: string; url?: string };
    if (a.fid && a.url) {
      const up = await fetch(`http://${a.url}/${a.fid}`, { method: "POST", body });
      assert.equal(up.status, 201);
      return a.fid;
    }
    if (attempt > 60) assert.fail(`no assignment: ${JSON.stringify(a)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test("needles written with -index=leveldb read back after a restart, and by the Go server", async () => {
  let volume = await startVolume("ours", scratch.dir, data(), master, ["-index=leveldb"]);
  await waitFor(`${volume.url}/healthz`, (s) => s === 200);
  const files = new Map<string, string>();
  for (let i = 0; i < 20; i++) files.set(await assignAndUpload(`payload ${i}`), `payload ${i}`);
  const [firstFid] = files.keys();
  const del = await fetch(`${volume.url}/${firstFid}`, { method: "DELETE" });
  assert.equal(del.status, 202);
  files.delete(firstFid!);
  assert.ok(readdirSync(data()).some((n) => n.endsWith(".ldb") && existsSync(join(data(), n, "CURRENT"))));
  await volume.proc.stop("SIGTERM");

  volume = await startVolume("ours", scratch.dir, data(), master, ["-index=leveldb"]);
  for (const [fid, body] of files) assert.equal(await (await fetch(`${volume.url}/${fid}`)).text(), body);
  assert.equal((await fetch(`${volume.url}/${firstFid}`)).status, 404);
  await volume.proc.stop("SIGTERM");

  const go = await startVolume("go", scratch.dir, data(), master, ["-index=leveldb"]);
  try {
    for (const [fid, body] of files) assert.equal(await (await fetch(`${go.url}/${fid}`)).text(), body);
    assert.equal((await fetch(`${go.url}/${firstFid}`)).status, 404);
  } finally {
    await go.proc.stop("SIGTERM");
  }
});
