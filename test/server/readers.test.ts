// SEAWEED_READERS=1: a reader process accepts on the same ports. Whichever process a connection
// lands on, a write is readable at once, an overwrite shows the new bytes, a delete is a 404, other
// requests (status, writes) still work, and SIGINT stops the reader with the server.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let volume: VolumeProc;

/** Command lines of a process's children. */
function childrenOf(pid: number): string[] {
  try {
    return execFileSync("ps", ["--ppid", String(pid), "-o", "args="], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.trim() !== "");
  } catch {
    return [];
  }
}

before(async () => {
  scratch = scratchDir("wv-readers-");
  master = await startMaster(scratch.dir);
  const data = join(scratch.dir, "volume");
  mkdirSync(data);
  process.env.SEAWEED_READERS = "1";
  try {
    volume = await startVolume("ours", scratch.dir, data, master);
  } finally {
    delete process.env.SEAWEED_READERS;
  }
});

after(async () => {
  await volume?.proc.stop();
  await master?.proc.stop();
  scratch?.cleanup();
});

/** A request on a connection of its own, so the kernel may hand it to either process. */
function fresh(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), connection: "close" },
  });
}

test("a reader process runs beside the server", () => {
  const pid = volume.proc.child.pid!;
  assert.ok(
    childrenOf(pid).some((args) => args.includes("reader-main.js")),
    childrenOf(pid).join("\n"),
  );
});

test("writes, overwrites and deletes are seen by the next read on any connection", async () => {
  for (let i = 0; i < 40; i++) {
    const assign = (await (await fetch(`${master.url}/dir/assign`)).json()) as { fid: string };
    const url = `${volume.url}/${assign.fid}`;
    const first = `first ${i}`;
    const w = await fresh(url, { method: "POST", body: first, headers: { "content-type": "text/plain" } });
    assert.equal(w.status, 201, await w.text());
    await w.arrayBuffer().catch(() => undefined);
    let r = await fresh(url);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), first);
    assert.ok(r.headers.get("x-amz-request-id"));
    assert.ok(r.headers.get("etag"));

    const second = `second, longer ${i}`;
    const o = await fresh(url, { method: "POST", body: second, headers: { "content-type": "text/plain" } });
    assert.equal(o.status, 201);
    await o.arrayBuffer();
    r = await fresh(url);
    assert.equal(await r.text(), second);

    const d = await fresh(url, { method: "DELETE" });
    assert.equal(d.status, 202);
    await d.arrayBuffer();
    r = await fresh(url);
    await r.arrayBuffer();
    assert.equal(r.status, 404);
    r = await fresh(url, { method: "HEAD" });
    assert.equal(r.status, 404);
  }
});

test("other requests reach the primary through a reader", async () => {
  for (let i = 0; i < 10; i++) {
    const r = await fresh(`${volume.url}/status`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { Volumes?: unknown[] };
    assert.ok(Array.isArray(body.Volumes));
  }
});

test("SIGINT stops the readers with the server", async () => {
  const pid = volume.proc.child.pid!;
  assert.equal(await volume.proc.stop(), 0);
  assert.deepEqual(
    childrenOf(pid).filter((args) => args.includes("reader-main.js")),
    [],
  );
});
