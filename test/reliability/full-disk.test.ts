// A full disk: a volume on an 8 MiB tmpfs written until the space runs out, on our server and on
// Go's `weed volume` side by side. The write that does not fit fails (same status as Go), nothing
// torn is served, every acknowledged write reads back, the volume turns read-only (-minFreeSpace,
// seen over gRPC and by the master), and after space is freed and a restart writes go on.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type Proc, startVolume } from "../support/processes.js";
import {
  allocate,
  bodyOf,
  client,
  fidOf,
  fileSetup,
  mountTmpfs,
  putText,
  readAll,
  restartable,
  sha,
  unmount,
  until,
  volumeStatus,
} from "./support.js";

const VID = 61;
const FILLER = "filler.bin";

const mounts: string[] = [];
const procs: Proc[] = [];
const env = fileSetup("wv-rel-full-", async () => {
  for (const p of procs) await p.stop("SIGKILL");
  for (const m of mounts) unmount(m);
});

/** An 8 MiB tmpfs data directory with 1 MiB of filler to free later; the reason when impossible. */
function smallDisk(name: string): { dir: string } | { skip: string } {
  const dir = join(env.dir, name);
  mkdirSync(dir);
  const refused = mountTmpfs(dir, "8m");
  if (refused) return { skip: refused };
  mounts.push(dir);
  writeFileSync(join(dir, FILLER), Buffer.alloc(1 << 20, 1));
  return { dir };
}

interface Filled {
  acknowledged: Map<string, string>;
  failedFid: string;
  failure: { status: number; text: string };
}

/** Writes needles of 1..20 000 bytes until one is refused. */
async function fill(url: string, grpcAddress: string): Promise<Filled> {
  const c = client(grpcAddress);
  await allocate(c, VID);
  c.close();
  const acknowledged = new Map<string, string>();
  for (let k = 1; k < 5000; k++) {
    const fid = fidOf(VID, k);
    const body = bodyOf(k);
    const r = await putText(url, fid, body);
    if (r.status === 201) acknowledged.set(fid, sha(body));
    else return { acknowledged, failedFid: fid, failure: r };
  }
  throw new Error("8 MiB took 5000 needles without running out of space");
}

/** Every acknowledged needle is served byte for byte; the refused one is not served at all. */
async function verify(url: string, filled: Filled, what: string): Promise<void> {
  const served = await readAll(url, [...filled.acknowledged.keys(), filled.failedFid]);
  for (const [fid, hash] of filled.acknowledged) {
    const got = served.get(fid);
    assert.equal(got?.status, 200, `${what}: acknowledged ${fid} lost (${got?.status})`);
    assert.equal(got?.hash, hash, `${what}: ${fid} served other bytes`);
  }
  assert.equal(
    served.get(filled.failedFid)?.status,
    404,
    `${what}: the refused write ${filled.failedFid} is served`,
  );
}

/** The master's ReadOnly flag for the volume (from the heartbeats). */
async function masterSaysReadOnly(): Promise<boolean> {
  const status = (await (await fetch(`${env.master.url}/vol/status`)).json()) as {
    Volumes: {
      DataCenters?: Record<string, Record<string, Record<string, { Id: number; ReadOnly: boolean }[]>>>;
    };
  };
  for (const dc of Object.values(status.Volumes.DataCenters ?? {}))
    for (const rack of Object.values(dc))
      for (const vols of Object.values(rack)) for (const v of vols ?? []) if (v.Id === VID) return v.ReadOnly;
  return false;
}

/** .idx and .dat agree after failed appends: whole entries, the last one ending the .dat. */
function filesConsistent(dir: string, idxDir: string, what: string): void {
  const idx = readFileSync(join(idxDir, `${VID}.idx`));
  assert.equal(idx.length % 16, 0, `${what}: .idx of ${idx.length} bytes holds a partial entry`);
  let end = 8; // the super block
  for (let at = 0; at < idx.length; at += 16) {
    const offset = idx.readUInt32BE(at + 8) * 8;
    const size = idx.readInt32BE(at + 12);
    // A v3 record: 16-byte header, data (size bytes), checksum 4, append time 8, padded to 8.
    const length = 16 + Math.max(size, 0) + 12;
    if (offset > 0) end = Math.max(end, offset + length + ((8 - (length % 8)) % 8));
  }
  const dat = statSync(join(dir, `${VID}.dat`)).size;
  assert.equal(
    dat,
    end,
    `${what}: the .dat (${dat} bytes) does not end where its last indexed record does (${end})`,
  );
}

test("full disk: the failing write errors as Go's, nothing acknowledged lost, read-only until space is freed", async (t) => {
  const ours = smallDisk("ours");
  const go = smallDisk("go");
  if ("skip" in ours || "skip" in go) {
    t.skip("skip" in ours ? ours.skip : (go as { skip: string }).skip);
    return;
  }

  // Go's weed volume first: how the write that does not fit fails, and what a restart serves.
  let goVolume = await startVolume("go", env.dir, go.dir, env.master);
  procs.push(goVolume.proc);
  const goFilled = await fill(goVolume.url, `127.0.0.1:${goVolume.grpcPort}`);
  await verify(goVolume.url, goFilled, "go, full");
  await goVolume.proc.stop("SIGKILL");
  goVolume = await startVolume("go", env.dir, go.dir, env.master);
  procs.push(goVolume.proc);
  await verify(goVolume.url, goFilled, "go, restarted full");
  const goReadOnly = (await volumeStatus(`127.0.0.1:${goVolume.grpcPort}`, VID))?.isReadOnly;
  // A small write to the read-only (low on space) volume: how Go refuses it.
  const goRefusal = await putText(goVolume.url, fidOf(VID, 9000), Buffer.from("x"));
  await goVolume.proc.stop();

  const server = await restartable(env.dir, ours.dir, env.master, "ours");
  procs.push(server.proc);
  try {
    const filled = await fill(server.url, server.grpcAddress);
    t.diagnostic(
      `go: ${goFilled.acknowledged.size} acknowledged, then ${goFilled.failure.status} ${goFilled.failure.text.trim()}; read-only after restart: ${goReadOnly}`,
    );
    t.diagnostic(
      `ours: ${filled.acknowledged.size} acknowledged, then ${filled.failure.status} ${filled.failure.text.trim()}`,
    );
    assert.equal(
      filled.failure.status,
      goFilled.failure.status,
      "the write that does not fit: status as Go's",
    );
    assert.match(filled.failure.text, /no space left on device/i);
    await verify(server.url, filled, "ours, full");

    // Out of space is under -minFreeSpace (1%): the volume is read-only, and the master hears of it.
    await until(
      "volume read-only over gRPC",
      async () => (await volumeStatus(server.grpcAddress, VID))?.isReadOnly === true,
      90_000,
    );
    await until("the master sees the volume read-only", masterSaysReadOnly, 90_000);
    const refused = await putText(server.url, fidOf(VID, 9000), Buffer.from("x"));
    assert.notEqual(refused.status, 201, "a write to the full volume was accepted");

    // Power cut while full: the files agree and the volume comes back read-only, as Go's does,
    // and refuses a write as Go's does.
    server.proc.child.kill("SIGKILL");
    await server.proc.exited;
    filesConsistent(ours.dir, ours.dir, "after SIGKILL");
    await server.start();
    procs.push(server.proc);
    await verify(server.url, filled, "ours, restarted full");
    assert.equal(
      (await volumeStatus(server.grpcAddress, VID))?.isReadOnly,
      goReadOnly,
      "read-only after restart as Go",
    );
    const refusal = await putText(server.url, fidOf(VID, 9000), Buffer.from("x"));
    t.diagnostic(
      `a write to the read-only volume: go ${goRefusal.status} ${goRefusal.text.trim()}; ours ${refusal.status} ${refusal.text.trim()}`,
    );
    assert.equal(refusal.status, goRefusal.status, "a write to the low-on-space volume: status as Go's");

    // Space freed: after a restart the volume takes writes again and everything reads back.
    unlinkSync(join(ours.dir, FILLER));
    await server.proc.stop();
    await server.start();
    procs.push(server.proc);
    assert.equal(
      (await volumeStatus(server.grpcAddress, VID))?.isReadOnly,
      false,
      "still read-only after freeing space",
    );
    for (let k = 10_000; k < 10_020; k++) {
      const fid = fidOf(VID, k);
      const body = bodyOf(k);
      const r = await putText(server.url, fid, body);
      assert.equal(r.status, 201, `write after freeing space: ${r.status} ${r.text}`);
      filled.acknowledged.set(fid, sha(body));
    }
    await verify(server.url, filled, "ours, after freeing space");
  } finally {
    await server.proc.stop();
  }
});

test("full -dir.idx disk: a write whose .idx entry does not fit leaves no record behind in the .dat", async (t) => {
  const data = join(env.dir, "idx-data");
  mkdirSync(data);
  const idx = join(env.dir, "idx");
  mkdirSync(idx);
  const refused = mountTmpfs(idx, "16k");
  if (refused) {
    t.skip(refused);
    return;
  }
  mounts.push(idx);
  // 8 KiB of filler leaves room for 512 index entries.
  writeFileSync(join(idx, FILLER), Buffer.alloc(8192, 1));
  const server = await restartable(env.dir, data, env.master, "idx-full", [`-dir.idx=${idx}`]);
  procs.push(server.proc);
  try {
    const filled = await fill(server.url, server.grpcAddress);
    t.diagnostic(
      `${filled.acknowledged.size} acknowledged, then ${filled.failure.status} ${filled.failure.text.trim()}`,
    );
    assert.match(filled.failure.text, /no space left on device/i);
    const datSize = statSync(join(data, `${VID}.dat`)).size;
    for (let k = 9000; k < 9005; k++) {
      const r = await putText(server.url, fidOf(VID, k), bodyOf(k));
      assert.notEqual(r.status, 201, "a write without room for its index entry was acknowledged");
    }
    assert.equal(statSync(join(data, `${VID}.dat`)).size, datSize, "failed writes left records in the .dat");
    await verify(server.url, filled, "full .idx");

    // Room again: writes go on, and after a power cut everything reads back.
    unlinkSync(join(idx, FILLER));
    for (let k = 10_000; k < 10_020; k++) {
      const body = bodyOf(k);
      const r = await putText(server.url, fidOf(VID, k), body);
      assert.equal(r.status, 201, `write after freeing space: ${r.status} ${r.text}`);
      filled.acknowledged.set(fidOf(VID, k), sha(body));
    }
    server.proc.child.kill("SIGKILL");
    await server.proc.exited;
    filesConsistent(data, idx, "after SIGKILL");
    await server.start();
    procs.push(server.proc);
    await verify(server.url, filled, "full .idx, restarted");
  } finally {
    await server.proc.stop();
  }
});
