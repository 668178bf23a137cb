// npm run soak — a long read/write mix against a real `weed master` and our volume server, watching
// for slow leaks. First a short unthrottled run measures the peak throughput this generator gets
// from our server; then the soak runs at a fraction of it (default 80%) for --minutes, and every
// --sample seconds records the server's RSS (/proc/<pid>/status VmRSS), its memory as the
// process sees it (V8 heap used/total, external and ArrayBuffer bytes, from prom-client's /metrics
// on -metricsPort), its open descriptors (/proc/<pid>/fd) and the p50/p99 latency of that window.
// At the end every acknowledged write is read back and compared, and a verdict is printed: RSS and
// live heap flat, descriptors flat, p99 stable.
//
//   node scripts/soak.mjs [--minutes 30] [--fraction 0.8] [--peak-seconds 20] [--sample 30]
//                         [--connections 16] [--read-percent 80] [--size 1024] [--keys 50000]
//                         [--vacuum-at MIN] [--out FILE.json]
//
// --vacuum-at MIN compacts and commits every volume of the soak over gRPC at minute MIN. Overwrites
// make garbage, and the master vacuums it on its own schedule; each first vacuum grows the heap
// and the allocator's arenas once (a new size class), so forcing one early reaches the steady state
// sooner in a short run.
//
// "Flat" is judged on the last third of the samples against the middle third (the first third is
// warm-up: caches, allocator arenas and the first vacuums grow there): the median RSS of the last
// third may exceed the middle third's by at most 5% + 8 MiB, and the median V8 heapUsed by at most
// 10% + 8 MiB (it swings with every GC, so a single sample says little).
//
// Needs `npm run build`. The generator runs in this process, so "peak" is the peak this client
// reaches on this machine (shared with other work), which is what the soak's rate is relative to.

import { readdirSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { credentials } from "@grpc/grpc-js";
import { reserveRanges } from "./lib/bench-load.mjs";
import {
  cleanupAll,
  freePort,
  installSignalHandlers,
  scratchDir,
  sleep,
  startMaster,
  startVolume,
  treeKb,
} from "./lib/bench-procs.mjs";
import { ensureWeed, root } from "./lib/weed.mjs";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    fraction: { type: "string", default: "0.8" },
    "peak-seconds": { type: "string", default: "20" },
    sample: { type: "string", default: "30" },
    connections: { type: "string", default: "16" },
    "read-percent": { type: "string", default: "80" },
    size: { type: "string", default: "1024" },
    keys: { type: "string", default: "50000" },
    "vacuum-at": { type: "string" },
    out: { type: "string" },
  },
});
const minutes = Number(args.minutes);
const fraction = Number(args.fraction);
const peakSeconds = Number(args["peak-seconds"]);
const sampleSeconds = Number(args.sample);
const connections = Number(args.connections);
const readPercent = Number(args["read-percent"]);
const size = Number(args.size);
const keyCount = Number(args.keys);
const vacuumAtMinutes = args["vacuum-at"] === undefined ? undefined : Number(args["vacuum-at"]);

installSignalHandlers();

const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);

const fdCount = (pid) => readdirSync(`/proc/${pid}/fd`).length;

/** The server's own memory figures, from its Prometheus endpoint (bytes; 0 when absent). */
async function memoryMetrics(metricsUrl) {
  const names = {
    heapUsed: "nodejs_heap_size_used_bytes",
    heapTotal: "nodejs_heap_size_total_bytes",
    newSpace: 'nodejs_heap_space_size_total_bytes{space="new"}',
    oldSpace: 'nodejs_heap_space_size_total_bytes{space="old"}',
    external: "nodejs_external_memory_bytes",
    arrayBuffers: "nodejs_array_buffers_bytes",
  };
  const out = {};
  for (const key of Object.keys(names)) out[key] = 0;
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
    for (const line of text.split("\n")) {
      const space = line.lastIndexOf(" ");
      const name = line.slice(0, space);
      for (const [key, wanted] of Object.entries(names))
        if (name === wanted) out[key] = Number(line.slice(space + 1));
    }
  } catch {
    // A missed scrape under load: the sample keeps zeros, which the verdict skips.
  }
  return out;
}

/** Compacts and commits each volume over gRPC (what the master's vacuum does). */
async function vacuumVolumes(grpcAddress, volumeIds) {
  const pb = await import(join(root, "dist/src/pb/volume_server.js"));
  const client = new pb.VolumeServerClient(grpcAddress, credentials.createInsecure());
  const deadline = () => ({ deadline: Date.now() + 300_000 });
  try {
    for (const volumeId of volumeIds) {
      const t0 = Date.now();
      await new Promise((resolve, reject) => {
        const call = client.vacuumVolumeCompact({ volumeId, preallocate: 0n }, deadline());
        call.on("data", () => {});
        call.on("error", reject);
        call.on("end", resolve);
      });
      const res = await new Promise((resolve, reject) =>
        client.vacuumVolumeCommit({ volumeId }, deadline(), (err, r) => (err ? reject(err) : resolve(r))),
      );
      log(`vacuumed volume ${volumeId}: ${res.volumeSize} bytes left, ${Date.now() - t0} ms`);
    }
  } finally {
    client.close();
  }
}

function send(agent, url, method, body) {
  return new Promise((resolve) => {
    const headers = body
      ? { "Content-Type": "application/octet-stream", "Content-Length": String(body.length) }
      : {};
    const req = httpRequest(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", (err) => resolve({ status: 0, error: err.message }));
    });
    req.on("error", (err) => resolve({ status: 0, error: err.message }));
    req.end(body ?? undefined);
  });
}

const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;

async function main() {
  const weed = ensureWeed({ quiet: true });
  const work = scratchDir("soak-");
  const master = await startMaster(weed, work);
  const metricsPort = await freePort();
  const volume = await startVolume("ours", weed, master, work, {
    extraArgs: [`-metricsPort=${metricsPort}`],
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const pid = volume.pid;
  log(`master ${master.url}, our volume server ${volume.url} pid ${pid}, data ${volume.dataDir}`);

  // Keys: a fixed key space reserved from the master and overwritten in place, so the needle map
  // stays the same size and any RSS growth is a leak, not data. Each key's last acknowledged body
  // seed is kept; a key being written is not read, nor written while read (either body could come
  // back).
  const ranges = await reserveRanges(master, volume, 8, Math.ceil(keyCount / 8));
  const paths = [];
  for (let i = 0; i < keyCount; i++) {
    const r = ranges[i % ranges.length];
    paths.push(`/${r.vid},${(r.start + Math.floor(i / ranges.length)).toString(16)}${r.cookie}`);
  }
  const seeds = new Int32Array(keyCount); // 0 = never acknowledged
  const writing = new Uint8Array(keyCount);
  const reading = new Uint16Array(keyCount);
  const bodyFor = (seed) => {
    const b = Buffer.allocUnsafe(size);
    b.fill(seed & 0xff);
    b.writeUInt32BE(seed >>> 0, 0);
    return b;
  };

  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let seedCounter = 1;
  const errors = new Map();
  const noteError = (what) => errors.set(what, (errors.get(what) ?? 0) + 1);

  let writes = 0;
  async function write(latencies, k = Math.floor(Math.random() * keyCount)) {
    if (writing[k] || reading[k]) return read(latencies);
    writing[k] = 1;
    const seed = seedCounter++;
    const t0 = process.hrtime.bigint();
    const res = await send(agent, `${volume.url}${paths[k]}`, "POST", bodyFor(seed));
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    writing[k] = 0;
    writes++;
    if (res.status === 201) seeds[k] = seed;
    else noteError(`write ${res.status} ${res.error ?? res.body?.toString().slice(0, 80)}`);
  }
  async function read(latencies) {
    let k = Math.floor(Math.random() * keyCount);
    while (writing[k] || seeds[k] === 0) k = (k + 1) % keyCount;
    reading[k]++;
    const path = paths[k];
    const seed = seeds[k];
    const t0 = process.hrtime.bigint();
    const res = await send(agent, `${volume.url}${path}`, "GET");
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    reading[k]--;
    if (res.status !== 200) noteError(`read ${res.status} ${res.error ?? ""}`);
    else if (!res.body.equals(bodyFor(seed))) noteError("read: wrong bytes");
  }
  const op = (lat) => (Math.random() * 100 < readPercent ? read(lat) : write(lat));

  // Prefill so reads have something to read.
  const pre = [];
  let fill = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (fill < keyCount) await write(pre, fill++);
    }),
  );
  if (seeds.includes(0)) throw new Error(`prefill failed: ${JSON.stringify(Object.fromEntries(errors))}`);
  log(`prefilled ${keyCount} objects of ${size} bytes`);

  // Peak: closed loop, no pacing.
  let peakOps = 0;
  {
    const lat = [];
    const end = Date.now() + peakSeconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (Date.now() < end) await op(lat);
      }),
    );
    peakOps = lat.length / peakSeconds;
    lat.sort((a, b) => a - b);
    log(
      `peak: ${peakOps.toFixed(0)} ops/s over ${peakSeconds}s, p50 ${quantile(lat, 0.5).toFixed(2)} ms, p99 ${quantile(lat, 0.99).toFixed(2)} ms`,
    );
  }

  // Soak: each connection paces itself to rate/connections ops/s (open schedule, so a slow answer
  // is followed by catch-up rather than a lower rate).
  const target = peakOps * fraction;
  const perConn = target / connections;
  const samples = [];
  let window = [];
  const start = Date.now();
  const end = start + minutes * 60_000;
  log(`soak: ${target.toFixed(0)} ops/s (${fraction * 100}% of peak) for ${minutes} min`);
  let vacuum = Promise.resolve();
  const vacuumTimer =
    vacuumAtMinutes === undefined
      ? undefined
      : setTimeout(() => {
          const ids = [...new Set(ranges.map((r) => r.vid))];
          log(`forcing a vacuum of volumes ${ids.join(", ")}`);
          vacuum = vacuumVolumes(`127.0.0.1:${volume.grpcPort}`, ids).catch((err) =>
            noteError(`vacuum: ${err.message}`),
          );
        }, vacuumAtMinutes * 60_000);
  let sampling = Promise.resolve();
  const sampleTimer = setInterval(() => {
    sampling = takeSample();
  }, sampleSeconds * 1000);
  async function takeSample() {
    const lat = window;
    window = [];
    lat.sort((a, b) => a - b);
    const t = Math.round((Date.now() - start) / 1000);
    const mem = await memoryMetrics(metricsUrl);
    const s = {
      t,
      ops: lat.length,
      opsPerSec: lat.length / sampleSeconds,
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      rssKb: treeKb(pid, "VmRSS"),
      heapUsedKb: Math.round(mem.heapUsed / 1024),
      heapTotalKb: Math.round(mem.heapTotal / 1024),
      newSpaceKb: Math.round(mem.newSpace / 1024),
      oldSpaceKb: Math.round(mem.oldSpace / 1024),
      externalKb: Math.round(mem.external / 1024),
      arrayBuffersKb: Math.round(mem.arrayBuffers / 1024),
      fds: fdCount(pid),
      errors: [...errors.values()].reduce((a, b) => a + b, 0),
    };
    samples.push(s);
    const mib = (kb) => (kb / 1024).toFixed(1);
    log(
      `t=${s.t}s ops/s=${s.opsPerSec.toFixed(0)} p50=${s.p50.toFixed(2)}ms p99=${s.p99.toFixed(2)}ms rss=${mib(s.rssKb)}MiB heap=${mib(s.heapUsedKb)}/${mib(s.heapTotalKb)}MiB (new ${mib(s.newSpaceKb)} old ${mib(s.oldSpaceKb)}) external=${mib(s.externalKb)}MiB arrayBuffers=${mib(s.arrayBuffersKb)}MiB fds=${s.fds} errors=${s.errors} writes=${writes}`,
    );
  }
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      let due = Date.now() + (c * 1000) / target;
      while (Date.now() < end) {
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        due += 1000 / perConn;
        await op(window);
      }
    }),
  );
  clearInterval(sampleTimer);
  clearTimeout(vacuumTimer);
  await Promise.all([sampling, vacuum]);

  // Every key reads back its last acknowledged body.
  let bad = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < keyCount) {
        const k = next++;
        const res = await send(agent, `${volume.url}${paths[k]}`, "GET");
        if (res.status !== 200 || !res.body.equals(bodyFor(seeds[k]))) bad++;
      }
    }),
  );
  agent.destroy();
  log(`read back ${keyCount} keys (${writes} acknowledged writes in all): ${bad} wrong or missing`);

  // Verdict (see the top of the file): the last third against the middle third for RSS and live
  // heap; descriptors may not grow past the middle third's by more than 4; the p99 of the last
  // third may not exceed 3x the middle third's.
  const third = Math.max(1, Math.floor(samples.length / 3));
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const middle = samples.slice(third, Math.max(third + 1, samples.length - third));
  const last = samples.slice(-third);
  const rssMiddle = med(middle.map((s) => s.rssKb));
  const rssLast = med(last.map((s) => s.rssKb));
  const scraped = (xs) => xs.filter((s) => s.heapUsedKb > 0).map((s) => s.heapUsedKb);
  const heapMiddle = med(scraped(middle));
  const heapLast = med(scraped(last));
  const fdMiddle = med(middle.map((s) => s.fds));
  const fdMax = Math.max(...last.map((s) => s.fds));
  const p99Middle = med(middle.map((s) => s.p99));
  const p99Last = med(last.map((s) => s.p99));
  const verdict = {
    rssFlat: rssLast <= rssMiddle * 1.05 + 8192,
    heapFlat: heapLast <= heapMiddle * 1.1 + 8192,
    fdsFlat: fdMax <= fdMiddle + 4,
    p99Stable: p99Last <= p99Middle * 3 + 1,
    allReadBack: bad === 0,
    noErrors: errors.size === 0,
  };
  const result = {
    date: new Date().toISOString(),
    minutes,
    fraction,
    connections,
    readPercent,
    size,
    peakOps,
    targetOps: target,
    keys: keyCount,
    writes,
    badReadBack: bad,
    errors: Object.fromEntries(errors),
    vacuumAtMinutes,
    rssMiddleMiB: rssMiddle / 1024,
    rssLastMiB: rssLast / 1024,
    rssMaxMiB: Math.max(...samples.map((s) => s.rssKb)) / 1024,
    heapUsedMiddleMiB: heapMiddle / 1024,
    heapUsedLastMiB: heapLast / 1024,
    fdMiddle,
    fdMax,
    p99MiddleMs: p99Middle,
    p99LastMs: p99Last,
    verdict,
    samples,
  };
  if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2));
  console.log(JSON.stringify({ ...result, samples: undefined }, null, 2));
  const ok = Object.values(verdict).every(Boolean);
  log(ok ? "SOAK PASSED" : "SOAK FAILED");
  return ok;
}

let ok = false;
try {
  ok = await main();
} catch (err) {
  console.error(err);
} finally {
  await cleanupAll();
}
process.exit(ok ? 0 : 1);
