// Replication of writes and deletes between two of our servers (volume with placement 001), and a
// replica that is down failing the write as weed's does; the upload and download limits
// (concurrentUploadLimitMB / concurrentDownloadLimitMB with their in-flight timeouts); and a large
// needle read by several slow clients at once while the server's memory stays bounded.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { volumeCall } from "../support/grpc.js";
import {
  type Master,
  scratchDir,
  startMaster,
  startVolume,
  type VolumeProc,
  waitFor,
} from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let a: VolumeProc;
let b: VolumeProc;
let limited: VolumeProc;

function allocate(server: VolumeProc, volumeId: number, replication: string): Promise<void> {
  return volumeCall(server.grpcPort, (c, done) =>
    c.allocateVolume(
      {
        volumeId,
        collection: "",
        preallocate: 0n,
        replication,
        ttl: "",
        memoryMapMaxSizeMb: 0,
        diskType: "",
        version: 3,
      },
      (err) => done(err),
    ),
  );
}

before(async () => {
  scratch = scratchDir("wv-replication-");
  for (const d of ["a", "b", "limited"]) mkdirSync(join(scratch.dir, d));
  master = await startMaster(scratch.dir);
  a = await startVolume("ours", scratch.dir, join(scratch.dir, "a"), master);
  b = await startVolume("ours", scratch.dir, join(scratch.dir, "b"), master);
  limited = await startVolume("ours", scratch.dir, join(scratch.dir, "limited"), master, [
    "-concurrentUploadLimitMB=1",
    "-concurrentDownloadLimitMB=1",
    "-inflightUploadDataTimeout=1s",
    "-inflightDownloadDataTimeout=1s",
  ]);
  await allocate(a, 9, "001");
  await allocate(b, 9, "001");
  await allocate(limited, 10, "000");
  // Both holders must be known to the master before a write can find its replica.
  await waitFor(`${master.url}/dir/lookup?volumeId=9`, (s) => s === 200);
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${master.url}/dir/lookup?volumeId=9`);
    const body = (await r.json()) as { locations?: unknown[] };
    if ((body.locations?.length ?? 0) >= 2) break;
    await new Promise((res) => setTimeout(res, 100));
  }
});

after(async () => {
  await Promise.all([a?.proc.stop(), b?.proc.stop(), limited?.proc.stop()]);
  await master?.proc.stop();
  scratch?.cleanup();
});

test("a write and a delete on a 001 volume reach the other replica", async () => {
  const w = await fetch(`${a.url}/9,0100000001`, {
    method: "POST",
    body: "replicated bytes",
    headers: { "content-type": "text/plain" },
  });
  assert.equal(w.status, 201, await w.text());
  const onB = await fetch(`${b.url}/9,0100000001`);
  assert.equal(onB.status, 200);
  assert.equal(await onB.text(), "replicated bytes");
  const d = await fetch(`${b.url}/9,0100000001`, { method: "DELETE" });
  assert.equal(d.status, 202);
  assert.equal((await fetch(`${a.url}/9,0100000001`)).status, 404, "the delete reached a");
});

test("with a replica down, a write fails with weed's 500 and message", async () => {
  await b.proc.stop();
  const w = await fetch(`${a.url}/9,0200000002`, {
    method: "POST",
    body: "cannot be replicated",
    headers: { "content-type": "text/plain" },
  });
  assert.equal(w.status, 500);
  const { error } = (await w.json()) as { error: string };
  assert.match(
    error,
    /failed to write to replicas for volume 9|replication locations \[1\] is less than volume 9 replication copy count \[2\]/,
  );
});

/** Starts an upload of `size` bytes that sends only `sent` of them, and keeps the socket open. */
function stalledUpload(server: VolumeProc, fid: string, size: number, sent: number) {
  const socket = connect(server.port, "127.0.0.1");
  socket.write(
    `POST /${fid} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(sent, 7));
  socket.on("error", () => undefined);
  return socket;
}

test("uploads over concurrentUploadLimitMB wait, then get weed's 429", async () => {
  const held = stalledUpload(limited, "10,0300000003", 3 << 20, 1 << 20);
  await new Promise((r) => setTimeout(r, 300));
  const r = await fetch(`${limited.url}/10,0400000004`, {
    method: "POST",
    body: "small",
    headers: { "content-type": "text/plain" },
  });
  assert.equal(r.status, 429);
  assert.match(
    ((await r.json()) as { error: string }).error,
    /inflight upload data \d+ > 1048576, and wait timeout/,
  );
  held.destroy();
  // Once the stalled upload is gone, uploads go through again.
  for (let i = 0; i < 50; i++) {
    const ok = await fetch(`${limited.url}/10,0400000004`, {
      method: "POST",
      body: "small",
      headers: { "content-type": "text/plain" },
    });
    if (ok.status === 201) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail("uploads did not resume");
});

test("large reads stream: slow readers of a 48 MiB needle keep memory bounded, and the download limit answers 429", async () => {
  const big = Buffer.alloc(48 << 20, 0x5a);
  const w = await fetch(`${limited.url}/10,0500000005`, {
    method: "POST",
    body: big,
    headers: { "content-type": "application/octet-stream" },
  });
  assert.equal(w.status, 201);
  const rss = () => {
    const status = readFileSync(`/proc/${limited.proc.child.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  };
  const before = rss();
  // Four readers that read the headers and a little, then stall.
  const readers = Array.from({ length: 4 }, () => {
    const s = connect(limited.port, "127.0.0.1");
    s.on("error", () => undefined);
    s.write("GET /10,0500000005 HTTP/1.1\r\nHost: x\r\n\r\n");
    s.once("data", () => s.pause());
    return s;
  });
  await new Promise((r) => setTimeout(r, 1500));
  const during = rss();
  // A small read while 48 MiB are being sent: over the 1 MiB download limit, it waits then 429s.
  const small = await fetch(`${limited.url}/10,0400000004`);
  for (const s of readers) s.destroy();
  assert.ok(
    during - before < 4 * (48 << 20) * 0.5,
    `RSS grew by ${((during - before) / 2 ** 20).toFixed(1)} MiB for 4 stalled readers of 48 MiB`,
  );
  assert.equal(small.status, 429);
});
