// Power loss: a .dat/.idx pair written by our server, copied with each file cut at its own random
// offset (as a crash can leave them, the .idx flushed further than the .dat or the other way),
// then loaded by our server and by Go's `weed volume`. Both must serve the same needles (status
// and body), and a needle served is always one written whole, never a torn one.
// POWERLOSS_CASES=50 runs more random cases (default 4, beside 4 fixed ones); POWERLOSS_SEED
// replays a run.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type Master, type Proc, startMaster, startVolume } from "../support/processes.js";
import { random } from "../support/random.js";
import { allocate, bodyOf, client, fidOf, fileSetup, put, readAll, sha, volumeStatus } from "./support.js";

const procs: Proc[] = [];
const env = fileSetup("wv-rel-power-", async () => {
  for (const p of procs) await p.stop("SIGKILL");
});

const SOURCE_VID = 91;
const KEYS = 80;
const RANDOM_CASES = Number(process.env.POWERLOSS_CASES ?? 4);
const SEED = Number(process.env.POWERLOSS_SEED ?? Date.now() % 1_000_000);

/**
 * Writes KEYS needles to a volume of our server, overwrites every 5th with a new body and deletes
 * every 9th; returns the files and, per key, the hash of every body it ever had.
 */
async function writeVolume(): Promise<{
  dat: Buffer;
  idx: Buffer;
  vif: Buffer;
  versions: Map<number, Set<string>>;
}> {
  const dir = join(env.dir, "written");
  mkdirSync(dir);
  const server = await startVolume("ours", env.dir, dir, env.master);
  procs.push(server.proc);
  const c = client(`127.0.0.1:${server.grpcPort}`);
  await allocate(c, SOURCE_VID);
  c.close();
  const versions = new Map<number, Set<string>>();
  const write = async (key: number, body: Buffer) => {
    assert.equal(await put(server.url, fidOf(SOURCE_VID, key), body), 201);
    versions.get(key)?.add(sha(body)) ?? versions.set(key, new Set([sha(body)]));
  };
  for (let k = 1; k <= KEYS; k++) await write(k, bodyOf(k));
  for (let k = 5; k <= KEYS; k += 5) await write(k, bodyOf(k + 1000));
  for (let k = 9; k <= KEYS; k += 9) {
    const r = await fetch(`${server.url}/${fidOf(SOURCE_VID, k)}`, { method: "DELETE" });
    await r.arrayBuffer();
    assert.equal(r.status, 202);
  }
  await server.proc.stop();
  const file = (ext: string) => readFileSync(join(dir, `${SOURCE_VID}${ext}`));
  return { dat: file(".dat"), idx: file(".idx"), vif: file(".vif"), versions };
}

interface Cut {
  dat: number;
  idx: number;
  why: string;
}

test("power loss: .dat/.idx cut at random offsets are served by ours as by Go's weed volume, never torn", async (t) => {
  const { dat, idx, vif, versions } = await writeVolume();
  const rand = random(SEED);
  const cuts: Cut[] = [
    { dat: dat.length - 100, idx: idx.length, why: "the last record cut, .idx whole" },
    { dat: dat.length, idx: idx.length - 7, why: "the last .idx entry cut" },
    { dat: Math.floor(dat.length / 2), idx: idx.length, why: "half the .dat, .idx whole" },
    { dat: dat.length, idx: Math.floor(idx.length / 32) * 16, why: "half the .idx at an entry boundary" },
  ];
  // Half the random cases cut the .idx at an entry boundary: weed refuses to load a volume whose
  // .idx ends in a partial entry, which would leave little to compare.
  for (let i = 0; i < RANDOM_CASES; i++) {
    const idxCut = Math.floor(rand() * (idx.length + 1));
    cuts.push({
      dat: Math.floor(rand() * (dat.length + 1)),
      idx: i % 2 === 0 ? idxCut - (idxCut % 16) : idxCut,
      why: i % 2 === 0 ? "random, .idx at an entry boundary" : "random",
    });
  }
  t.diagnostic(`seed ${SEED}: ${cuts.length} cases of a ${dat.length}-byte .dat and ${idx.length}-byte .idx`);

  // Every case is a volume of its own (ids from 100) in one directory per server; each server
  // gets its own copies (loading may repair files) and its own master, so neither learns the
  // other's volumes.
  const servers: { url: string; grpcPort: number; proc: Proc }[] = [];
  for (const kind of ["ours", "go"] as const) {
    const dir = join(env.dir, kind);
    mkdirSync(dir);
    cuts.forEach((cut, i) => {
      writeFileSync(join(dir, `${100 + i}.dat`), dat.subarray(0, cut.dat));
      writeFileSync(join(dir, `${100 + i}.idx`), idx.subarray(0, cut.idx));
      writeFileSync(join(dir, `${100 + i}.vif`), vif);
    });
    const master: Master = await startMaster(join(env.dir, `${kind}-master`));
    procs.push(master.proc);
    const server = await startVolume(kind, env.dir, dir, master, [`-max=${cuts.length + 2}`]);
    procs.push(server.proc);
    servers.push(server);
  }

  const differences: string[] = [];
  const torn: string[] = [];
  const EMPTY = sha(Buffer.alloc(0));
  let emptied = 0;
  const summary: string[] = [];
  const refusedByGo: number[] = [];
  for (const [i, cut] of cuts.entries()) {
    const vid = 100 + i;
    const fids = Array.from({ length: KEYS }, (_, k) => fidOf(vid, k + 1));
    const [ours, go] = [await readAll(servers[0]!.url, fids), await readAll(servers[1]!.url, fids)];
    const served = fids.filter((f) => ours.get(f)!.status === 200).length;
    const goServed = fids.filter((f) => go.get(f)!.status === 200).length;
    summary.push(`${i}:${served}/${goServed}`);
    // weed does not load a volume whose .idx ends in a partial entry (its sorted index refuses the
    // size); ours loads it read-only and serves the whole entries. Not compared, only checked.
    const goRefused = cut.idx % 16 !== 0 && goServed === 0;
    if (goRefused) {
      refusedByGo.push(i);
      if (served > 0) {
        const status = await volumeStatus(`127.0.0.1:${servers[0]!.grpcPort}`, vid);
        assert.equal(status?.isReadOnly, true, `case ${i}: a volume with a partial .idx entry is writable`);
      }
    }
    for (const [k, fid] of fids.entries()) {
      const a = ours.get(fid)!;
      const b = go.get(fid)!;
      // A delete whose .idx entry was lost: its tombstone is re-indexed from the .dat and served
      // as an empty needle (weed's behaviour, kept): not torn, counted apart.
      if (a.status === 200 && a.hash === EMPTY && (k + 1) % 9 === 0) emptied++;
      else if (a.status === 200 && !versions.get(k + 1)!.has(a.hash))
        torn.push(`case ${i} (${cut.why}): ${fid} served bytes never written (go: ${b.status})`);
      if (!goRefused && (a.status !== b.status || a.hash !== b.hash))
        differences.push(
          `case ${i} (${cut.why}, .dat ${cut.dat}, .idx ${cut.idx}) ${fid}: ours ${a.status}, go ${b.status}${a.status === b.status ? " with other bytes" : ""}`,
        );
    }
  }
  t.diagnostic(`needles served per case (ours/go): ${summary.join(" ")}`);
  t.diagnostic(
    `cases whose volume weed refused (partial .idx entry), checked but not compared: ${refusedByGo.join(" ") || "none"}`,
  );
  t.diagnostic(
    `deleted needles served empty after their .idx entry was lost (weed does the same): ${emptied}`,
  );
  if (differences.length > 0) {
    for (const s of servers)
      t.diagnostic(
        s.proc
          .log()
          .split("\n")
          .filter((l) => /volume|\.idx|\.dat/i.test(l))
          .slice(0, 60)
          .join("\n"),
      );
  }
  assert.deepEqual(torn.slice(0, 20), [], `${torn.length} needles torn (seed ${SEED})`);
  assert.deepEqual(differences.slice(0, 20), [], `${differences.length} differences from Go (seed ${SEED})`);
});
