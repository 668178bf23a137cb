// Load for scripts/bench.mjs: write key ranges reserved from the master, the objects that read rows
// read, and one timed run of a workload through wrk (bench/http/wrk-workload.lua) or the Node
// fallback (bench/http/node-load-worker.mjs).

import { spawnSync } from "node:child_process";
import { Agent, request as httpRequest } from "node:http";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { cpuSeconds, getJson, IP, pinned, startChild } from "./bench-procs.mjs";
import { root } from "./weed.mjs";

export const WRK_SCRIPT = join(root, "bench", "http", "wrk-workload.lua");
export const NODE_WORKER = join(root, "bench", "http", "node-load-worker.mjs");

export function haveWrk() {
  const r = spawnSync("wrk", ["-v"], { encoding: "utf8" });
  return !r.error;
}

export function wrkVersion() {
  const r = spawnSync("wrk", ["-v"], { encoding: "utf8" });
  return (r.stdout || r.stderr || "").split("\n")[0].trim();
}

/**
 * Reserves `n` key ranges of `count` keys each with the master's /dir/assign?count=N (each on a
 * volume the master picks), all on `volume`: a range is { vid, start, cookie, count } and its keys
 * start..start+count-1 with the same cookie are ours to write, as weed's fid_delta convention.
 */
export async function reserveRanges(master, volume, n, count) {
  const ranges = [];
  for (let i = 0; i < n; i++) {
    // dataSize=1: the master charges count × dataSize (1 MB a key by default) against the volume's
    // size limit at once, which would mark every volume full after a few large reservations.
    // The first assign on a new server grows its volumes, which takes the master seconds.
    const a = await assignRetrying(master, count);
    if (a.error) throw new Error(`assign: ${a.error}`);
    if (a.url !== volume.address) throw new Error(`assign answered ${a.url}, not ${volume.address}`);
    const m = /^(\d+),([0-9a-f]+)([0-9a-f]{8})$/.exec(a.fid);
    if (!m) throw new Error(`assign answered an unexpected fid ${a.fid}`);
    ranges.push({
      vid: Number(m[1]),
      start: Number.parseInt(m[2], 16),
      cookie: m[3],
      count: a.count ?? count,
    });
  }
  return ranges;
}

/**
 * /dir/assign, retried while the master answers 503 because it is still growing volumes on a
 * fresh server (slower than one answer on a busy machine).
 */
async function assignRetrying(master, count) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      return await getJson(`${master.url}/dir/assign?count=${count}&dataSize=1`, 120_000);
    } catch (err) {
      if (!/: 503 /.test(err.message) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function send(agent, url, method, body) {
  return new Promise((resolve, reject) => {
    const headers = body
      ? { "Content-Type": "application/octet-stream", "Content-Length": String(body.length) }
      : {};
    const req = httpRequest(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

/** Writes `count` objects of `body` through `concurrency` keep-alive clients; their fid paths. */
export async function prefill(volume, ranges, body, count, concurrency = 16) {
  const paths = [];
  for (let i = 0; i < count; i++) {
    const r = ranges[i % ranges.length];
    paths.push(`/${r.vid},${(r.start + Math.floor(i / ranges.length)).toString(16)}${r.cookie}`);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    let next = 0;
    const worker = async () => {
      while (next < paths.length) {
        const path = paths[next++];
        const res = await send(agent, `${volume.url}${path}`, "POST", body);
        if (res.status !== 201) {
          throw new Error(`prefill POST ${path}: ${res.status} ${res.body.toString().slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await verifyReads(volume, [paths[0], paths[paths.length - 1]], body, agent);
  } finally {
    agent.destroy();
  }
  return paths;
}

/** Reads `paths` back and checks they all hold `body`. */
export async function verifyReads(volume, paths, body, agent = undefined) {
  for (const path of paths) {
    const res = await send(agent, `${volume.url}${path}`, "GET", null);
    if (res.status !== 200 || !res.body.equals(body)) {
      throw new Error(
        `read-back of ${path}: status ${res.status}, ${res.body.length} bytes of ${body.length}`,
      );
    }
  }
}

/**
 * A spot check that a write run's uploads landed: of `paths`, the first one stored must read back
 * as `body`; a path not found (404) is passed over, anything else fails.
 */
export async function verifyAnyRead(volume, paths, body) {
  for (const path of paths) {
    const res = await send(undefined, `${volume.url}${path}`, "GET", null);
    if (res.status === 404) continue;
    if (res.status !== 200 || !res.body.equals(body)) {
      throw new Error(
        `read-back of ${path}: status ${res.status}, ${res.body.length} bytes of ${body.length}`,
      );
    }
    return path;
  }
  throw new Error(
    `none of the first ${paths.length} writes of the run reads back: ${paths.slice(0, 3).join(" ")}...`,
  );
}

/**
 * The fids of thread 0's writes 1..n of a run (as wrk-workload.lua numbers them), for verifyAnyRead.
 * Write 0 is left out: wrk calls request() once before the run to check the script, and that
 * request is never sent. Writes 1..connections are the first request of each connection, so once
 * a write run has completed any request, one of them at least is stored.
 */
export function writtenPaths(ranges, threads, n) {
  const paths = [];
  for (let k = 1; k <= n; k++) {
    const r = ranges[k % ranges.length];
    paths.push(`/${r.vid},${(r.start + Math.floor(k / ranges.length) * threads).toString(16)}${r.cookie}`);
  }
  return paths;
}

/**
 * One timed run. `w`: { mode: write|read|mix, readPercent, connections, threads, seconds,
 * bodyFile, readList, ranges }. Answers { requests, durationUs, errors, latencyUs, clientCpuS }.
 */
export async function runLoad(client, volume, w) {
  return client === "wrk" ? runWrk(volume, w) : runNode(volume, w);
}

async function runWrk(volume, w) {
  const env = {
    ...process.env,
    BENCH_MODE: w.mode,
    BENCH_READ_PERCENT: String(w.readPercent ?? 90),
    BENCH_THREADS: String(w.threads),
    BENCH_BODY_FILE: w.bodyFile ?? "",
    BENCH_READ_LIST: w.readList ?? "",
    BENCH_RANGES: (w.ranges ?? []).map((r) => `${r.vid}:${r.start}:${r.cookie}:${r.count}`).join(";"),
  };
  const args = [
    "-t",
    String(w.threads),
    "-c",
    String(w.connections),
    "-d",
    `${w.seconds}s`,
    "--timeout",
    "30s",
    "-s",
    WRK_SCRIPT,
    `${volume.url}/`,
  ];
  const child = startChild(...pinned(w.cpus, "wrk", args), { env });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  // wrk's own CPU, read until it exits (the last reading is at most 100 ms old).
  let clientCpuS = 0;
  const timer = setInterval(() => {
    const s = cpuSeconds(child.pid);
    if (!Number.isNaN(s)) clientCpuS = s;
  }, 100);
  const code = await child.exited;
  clearInterval(timer);
  const line = out.split("\n").find((l) => l.startsWith("BENCHJSON "));
  if (code !== 0 || !line) {
    throw new Error(`wrk ${args.join(" ")} failed (${code}):\n${out.slice(-2000)}\n${err.slice(-2000)}`);
  }
  return { ...JSON.parse(line.slice("BENCHJSON ".length)), clientCpuS };
}

async function runNode(volume, w) {
  const before = process.cpuUsage();
  const worker = new Worker(NODE_WORKER, {
    workerData: {
      host: IP,
      port: volume.port,
      mode: w.mode,
      readPercent: w.readPercent ?? 90,
      connections: w.connections,
      seconds: w.seconds,
      bodyFile: w.bodyFile,
      readList: w.readList,
      ranges: w.ranges,
    },
  });
  const result = await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`load worker exited (${code}) without a result`)));
  });
  await worker.terminate();
  const used = process.cpuUsage(before);
  return { ...result, clientCpuS: (used.user + used.system) / 1e6 };
}
