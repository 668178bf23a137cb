// Load generator for scripts/bench.mjs when `wrk` is not installed (or with --client node): a worker
// thread driving `connections` keep-alive connections (node:http Agent), each a closed loop of
// requests, the same workloads as wrk-workload.lua: raw-body writes to fresh keys of reserved
// ranges, random reads of written fids, or a mix. Posts back counts and latency percentiles.
//
// workerData: { host, port, mode, readPercent, connections, seconds, bodyFile, readList, ranges }
//   ranges: [{ vid, start, cookie, count }]

import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { parentPort, workerData } from "node:worker_threads";

const c = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: c.connections, maxFreeSockets: c.connections });
const body = c.mode === "read" ? null : readFileSync(c.bodyFile);
const reads = c.mode === "write" ? [] : readFileSync(c.readList, "utf8").split("\n").filter(Boolean);
const ranges = c.ranges ?? [];

let written = 0;
function writePath() {
  const r = ranges[written % ranges.length];
  const offset = Math.floor(written / ranges.length);
  written++;
  if (offset >= r.count) throw new Error("write key range exhausted: reserve more keys");
  return `/${r.vid},${(r.start + offset).toString(16)}${r.cookie}`;
}

function send(method, path, payload) {
  return new Promise((resolve) => {
    const headers = payload
      ? { "Content-Type": "application/octet-stream", "Content-Length": String(payload.length) }
      : {};
    const req = request({ host: c.host, port: c.port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.on("error", () => resolve(0));
    req.end(payload ?? undefined);
  });
}

let latencies = new Float64Array(1 << 16);
let count = 0;
let statusErrors = 0;
let socketErrors = 0;

function record(ms) {
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = ms;
}

const started = performance.now();
const deadline = started + c.seconds * 1000;

async function client() {
  while (performance.now() < deadline) {
    const isRead = c.mode === "read" || (c.mode === "mix" && Math.random() * 100 < c.readPercent);
    const t0 = performance.now();
    const status = isRead
      ? await send("GET", reads[Math.floor(Math.random() * reads.length)], null)
      : await send("POST", writePath(), body);
    record(performance.now() - t0);
    if (status === 0) socketErrors++;
    else if (status > 399) statusErrors++;
  }
}

await Promise.all(Array.from({ length: c.connections }, client));
const durationMs = performance.now() - started;
agent.destroy();

const sorted = latencies.subarray(0, count).sort();
const pct = (p) => (count ? sorted[Math.min(count - 1, Math.floor((p / 100) * count))] : 0);
parentPort.postMessage({
  requests: count,
  durationUs: Math.round(durationMs * 1000),
  errors: { connect: 0, read: socketErrors, write: 0, status: statusErrors, timeout: 0 },
  latencyUs: {
    p50: Math.round(pct(50) * 1000),
    p90: Math.round(pct(90) * 1000),
    p99: Math.round(pct(99) * 1000),
    mean: count ? (sorted.reduce((a, b) => a + b, 0) / count) * 1000 : 0,
    max: Math.round((count ? sorted[count - 1] : 0) * 1000),
  },
});
