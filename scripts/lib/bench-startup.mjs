// Start-up rows of scripts/bench.mjs: one volume of 1,000,000 small needles (written once through
// our storage engine; the Go server loads the same files), copied to a fresh data directory for
// each start of the Go server and of ours. Measured: time from spawn until the volume's last needle
// reads back over HTTP, and resident memory once loaded minus that of the same server started on an
// empty directory, per needle (the needle map's cost, plus whatever else grows with the volume).

import { cpSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isStopping, sleep, spawnVolume, stopVolume, treeKb, waitUntil } from "./bench-procs.mjs";
import { median } from "./bench-report.mjs";
import { root } from "./weed.mjs";

const VOLUME_ID = 1;
const COOKIE = 0x1234abcd;
// Resident memory is read after this long idle, once start-up garbage has had a chance to go.
const SETTLE_MS = 1500;

const dist = (path) => import(pathToFileURL(join(root, "dist", "src", path)).href);

/** Writes volume 1 with `count` needles of 32 bytes into `dir` through our storage engine. */
async function writeVolume(dir, count) {
  const { createVolume } = await dist("storage/volume/volume-load.js");
  const { newNeedle } = await dist("storage/needle/needle.js");
  const { EMPTY_TTL } = await dist("storage/needle/ttl.js");
  const { parseReplicaPlacement } = await dist("storage/volume/replica-placement.js");
  const loc = { dir, idxDir: dir, collection: "", id: VOLUME_ID };
  const v = createVolume(loc, { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width: 4 });
  const data = Buffer.alloc(32, 7);
  for (let i = 1; i <= count; i++) v.write(newNeedle({ keyLo: i, cookie: COOKIE, data }));
  v.close();
}

/**
 * Bytes a needle of the memory needle map our server builds from that .idx (its typed arrays, as
 * the map counts them): the needle map alone, without the rest of the process.
 */
async function mapBytesPerNeedle(dir, needles) {
  const { MemoryNeedleMap } = await dist("storage/index/needle-map.js");
  const image = readFileSync(join(dir, `${VOLUME_ID}.idx`));
  return MemoryNeedleMap.fromIndex(image, 4, 3).memoryBytes / needles;
}

const fidOf = (key) => `${VOLUME_ID},${key.toString(16)}${COOKIE.toString(16).padStart(8, "0")}`;

/** Milliseconds from spawn until GET of `fid` answers 200 (polled every 5 ms). */
async function millisUntilServed(volume, fid) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (isStopping()) throw new Error("stopping");
    if (volume.child.exitCode !== null || volume.child.signalCode !== null) {
      throw new Error(`the ${volume.kind} volume server exited during start-up`);
    }
    try {
      const res = await fetch(`${volume.url}/${fid}`);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - volume.spawnedAt;
    } catch {}
    await sleep(5);
  }
  throw new Error(`${volume.kind}: ${fid} not served within 120 s of start`);
}

/** Resident memory (MiB) of a server started on an empty directory, once idle. */
async function emptyRssMb(kind, weed, master, work, ours) {
  const volume = await spawnVolume(kind, weed, master, work, { ours });
  try {
    await waitUntil(
      `${kind} /status`,
      async () => (await fetch(`${volume.url}/status`)).ok,
      60_000,
      volume.child,
    );
    await sleep(SETTLE_MS);
    return treeKb(volume.pid, "VmRSS") / 1024;
  } finally {
    await stopVolume(volume, master);
  }
}

/**
 * `rounds` starts of each server (order alternating; ours from the launcher `ours`) on copies of one
 * volume of `needles` needles;
 * answers medians: { needles, go: {seconds, rssMb, emptyRssMb, bytesPerNeedle}, ours: {...}, ratio }.
 */
export async function benchStartup({ weed, master, work, needles, rounds, servers, ours, log }) {
  const source = join(work, "startup-volume");
  mkdirSync(source, { recursive: true });
  const t0 = Date.now();
  await writeVolume(source, needles);
  log(
    `start-up: wrote a volume of ${needles.toLocaleString("en")} needles in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const lastFid = fidOf(needles);
  const samples = Object.fromEntries(servers.map((k) => [k, { seconds: [], rssMb: [], emptyRssMb: [] }]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const kind of order) {
      const s = samples[kind];
      s.emptyRssMb.push(await emptyRssMb(kind, weed, master, work, ours));
      const dataDir = mkdtempSync(join(work, `${kind}-startup-`));
      cpSync(source, dataDir, { recursive: true });
      const volume = await spawnVolume(kind, weed, master, work, { dataDir, ours });
      try {
        s.seconds.push((await millisUntilServed(volume, lastFid)) / 1000);
        await sleep(SETTLE_MS);
        s.rssMb.push(treeKb(volume.pid, "VmRSS") / 1024);
      } finally {
        await stopVolume(volume, master);
      }
      log(
        `start-up round ${round + 1}/${rounds}, ${kind}: ${s.seconds.at(-1).toFixed(2)} s to serve the last needle, ` +
          `RSS ${s.rssMb.at(-1).toFixed(0)} MiB (empty ${s.emptyRssMb.at(-1).toFixed(0)} MiB)`,
      );
    }
  }
  const result = { needles, mapBytesPerNeedle: await mapBytesPerNeedle(source, needles) };
  for (const kind of servers) {
    const s = samples[kind];
    const rssMb = median(s.rssMb);
    const emptyMb = median(s.emptyRssMb);
    result[kind] = {
      seconds: median(s.seconds),
      rssMb,
      emptyRssMb: emptyMb,
      bytesPerNeedle: ((rssMb - emptyMb) * 1024 * 1024) / needles,
      rounds: s,
    };
  }
  if (result.go && result.ours) {
    result.ratio = {
      seconds: result.ours.seconds / result.go.seconds,
      bytesPerNeedle: result.ours.bytesPerNeedle / result.go.bytesPerNeedle,
    };
  }
  return result;
}
