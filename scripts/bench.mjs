// npm run bench — our volume server against the Go `weed volume`, side by side on this machine in
// the same run. One real pinned `weed master`; then, round after round, the Go volume server and
// ours in turn, each with the same flags on a fresh data directory for each object size, the order
// alternating from one size to the next so drift cancels. Each runs the same rows: raw-body writes,
// random reads of written objects and a 90/10 read/write mix at each client count, plus
// `weed benchmark` through the master on a fresh server of its own. Medians over rounds go to
// bench/results/latest.{md,json} and throughput.svg.
//
//   node scripts/bench.mjs [--quick] [--rounds N] [--duration S] [--warmup S] [--sizes 1k,64k,1m,8m]
//                          [--connections 16,64] [--workloads write,read,mix] [--client wrk|node]
//                          [--servers go,ours] [--weed-benchmark-n N] [--no-weed-benchmark]
//                          [--startup-needles N] [--loadtest-duration D] [--no-loadtest]
//                          [--per-core LIST] [--ours-node PATH] [--compare DIR]
//                          [--doc | --no-doc] [--out DIR] [--keep]
//
// Per-core rows: each server pinned to one processor (taskset), the load generator to another, so
// the figure is what one core of a server does, the thing a many-core machine multiplies.
//
// Ours runs through bin/weed-volume on the project's pinned Node.js; --ours-node runs it on another
// (a baseline), and --compare DIR puts such a baseline run's rows beside this run's in BENCHMARKS.md.
//
// Besides the load rows: start-up of each server on a volume of 1,000,000 needles and the memory
// that volume costs (scripts/lib/bench-startup.mjs), and SeaweedFS's own loadtest package against
// each (scripts/lib/bench-loadtest.mjs). A full run rewrites BENCHMARKS.md's generated section with
// the targets judged row by row (scripts/lib/bench-doc.mjs, findings from bench/findings.json) and
// the chart docs/images/bench-throughput.svg.
//
// BENCH_CPU_PROF=DIR writes a V8 CPU profile of each of our servers into DIR; SEAWEED_READERS=N
// runs ours with N reader processes (ARCHITECTURE.md, "Using every core").
//
// Needs the server built (npm run build) and, for the default load generator, wrk on PATH
// (apt-get install -y wrk); without it the Node worker-thread generator is used.

import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync, statfsSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { benchSection, rewriteBenchmarks } from "./lib/bench-doc.mjs";
import {
  haveWrk,
  prefill,
  reserveRanges,
  runLoad,
  verifyAnyRead,
  writtenPaths,
  wrkVersion,
} from "./lib/bench-load.mjs";
import { benchLoadtest } from "./lib/bench-loadtest.mjs";
import {
  cleanupAll,
  cpuSeconds,
  installSignalHandlers,
  isStopping,
  memorySampler,
  oursLauncher,
  scratchDir,
  startChild,
  startMaster,
  startVolume,
  stopChild,
  stopVolume,
  volumeLogTail,
} from "./lib/bench-procs.mjs";
import { markdown, rowLabel, sizeLabel, summarize, throughputSvg } from "./lib/bench-report.mjs";
import { benchStartup } from "./lib/bench-startup.mjs";
import { ensureWeed, root } from "./lib/weed.mjs";

const HELP = `usage: node scripts/bench.mjs [options]   (npm run bench -- [options])

  --quick               sizes 1k,1m, 3 s rows, 1 s warm-up, 1 round, a short weed benchmark
  --rounds N            rounds of Go then ours (order alternating); medians are quoted (default 3)
  --duration S          seconds a measured row (default 10; quick 3)
  --warmup S            seconds of unmeasured load before each row (default 2; quick 1; 0 for none)
  --sizes LIST          object sizes, e.g. 1k,64k,1m,8m (default; quick 1k,1m)
  --connections LIST    concurrent keep-alive clients (default 16,64)
  --workloads LIST      write,read,mix (default all)
  --read-percent P      reads in the mix workload (default 90)
  --client wrk|node     load generator (default wrk when installed, else node)
  --wrk-threads N       wrk threads (default 1)
  --servers LIST        go,ours (default both)
  --weed-benchmark-n N  files for weed benchmark (default 50000; quick 10000)
  --no-weed-benchmark   skip weed benchmark
  --startup-needles N   needles in the start-up volume (default 1000000; quick 100000; 0 skips)
  --loadtest-duration D LOADTEST_DURATION of SeaweedFS's loadtest package (default 10s; quick 3s)
  --no-loadtest         skip SeaweedFS's loadtest package
  --per-core LIST       sizes of the one-core read and write rows (default 1k,64k; quick 1k; none)
  --ours-node PATH      run ours on this Node.js binary instead of the project's pinned one
  --compare DIR         a baseline run's results directory (its latest.json): BENCHMARKS.md shows its
                        rows beside this run's where ours changed by 5% or more
  --doc, --no-doc       rewrite BENCHMARKS.md and its chart (default: yes, except with --quick)
  --out DIR             results directory (default bench/results)
  --keep                keep the scratch directory (logs, data) for a look afterwards
`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      sizes: { type: "string" },
      connections: { type: "string" },
      workloads: { type: "string" },
      "read-percent": { type: "string" },
      client: { type: "string" },
      "wrk-threads": { type: "string" },
      servers: { type: "string" },
      "weed-benchmark-n": { type: "string" },
      "no-weed-benchmark": { type: "boolean", default: false },
      "startup-needles": { type: "string" },
      "loadtest-duration": { type: "string" },
      "no-loadtest": { type: "boolean", default: false },
      "per-core": { type: "string" },
      "ours-node": { type: "string" },
      compare: { type: "string" },
      doc: { type: "boolean" },
      "no-doc": { type: "boolean", default: false },
      out: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`bench: ${err.message}\n\n${HELP}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

function intArg(name, fallback, min = 0) {
  const raw = args[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) fail(`--${name} wants an integer >= ${min}, not ${raw}`);
  return n;
}

function parseSize(text) {
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!m) fail(`bad size ${text} (want e.g. 1k, 64k, 1m, 8m)`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()];
  return Number(m[1]) * unit;
}

function listArg(name, fallback, allowed) {
  const raw = args[name];
  const list =
    raw === undefined
      ? fallback
      : raw
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
  if (allowed)
    for (const v of list) if (!allowed.includes(v)) fail(`--${name}: ${v} is not one of ${allowed}`);
  return list;
}

const quick = args.quick;
const opts = {
  rounds: intArg("rounds", quick ? 1 : 3, 1),
  seconds: intArg("duration", quick ? 3 : 10, 1),
  warmup: intArg("warmup", quick ? 1 : 2, 0),
  sizes: listArg("sizes", quick ? ["1k", "1m"] : ["1k", "64k", "1m", "8m"]).map(parseSize),
  connections: listArg("connections", ["16", "64"]).map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1) fail(`bad connection count ${c}`);
    return n;
  }),
  workloads: listArg("workloads", ["write", "read", "mix"], ["write", "read", "mix"]),
  readPercent: intArg("read-percent", 90, 0),
  client: args.client ?? (haveWrk() ? "wrk" : "node"),
  wrkThreads: intArg("wrk-threads", 1, 1),
  servers: listArg("servers", ["go", "ours"], ["go", "ours"]),
  weedBenchmarkN: args["no-weed-benchmark"] ? 0 : intArg("weed-benchmark-n", quick ? 10_000 : 50_000, 0),
  startupNeedles: intArg("startup-needles", quick ? 100_000 : 1_000_000, 0),
  loadtestDuration: args["no-loadtest"] ? null : (args["loadtest-duration"] ?? (quick ? "3s" : "10s")),
  perCoreSizes: (args["per-core"] === "none" ? [] : listArg("per-core", quick ? ["1k"] : ["1k", "64k"])).map(
    parseSize,
  ),
  oursNode: args["ours-node"] ?? null,
  compare: args.compare ?? null,
  doc: args["no-doc"] ? false : (args.doc ?? !quick),
  out: args.out ?? join(root, "bench", "results"),
  keep: args.keep,
};
if (!["wrk", "node"].includes(opts.client)) fail(`--client must be wrk or node, not ${opts.client}`);
if (opts.client === "wrk" && !haveWrk())
  fail("wrk is not installed (apt-get install -y wrk), or use --client node");
if (opts.readPercent > 100) fail("--read-percent is at most 100");
// Per-core rows: the server on processor 0, the load generator on processor 1.
const PER_CORE = { server: "0", client: "1" };
if (opts.perCoreSizes.length && (cpus().length < 2 || spawnSync("taskset", ["-V"]).status !== 0)) {
  fail("--per-core needs taskset and two processors (or --per-core none)");
}
if (opts.oursNode && spawnSync(opts.oursNode, ["--version"]).status !== 0) {
  fail(`--ours-node ${opts.oursNode} does not run`);
}
if (opts.compare && !existsSync(join(opts.compare, "latest.json"))) {
  fail(`--compare ${opts.compare}: no latest.json there`);
}
if (!existsSync(join(root, "dist", "src", "cli", "main.js"))) {
  fail(
    "dist/src/cli/main.js is missing: build the server first (npm run build, or npx tsc -p tsconfig.json)",
  );
}

// Objects the read rows read: enough to defeat any per-object caching in the server, at most
// PREFILL_BYTES of them (all of it fits in the page cache: reads measure the servers, not the disk).
const PREFILL_BYTES = 256 * 1024 * 1024;
const prefillCount = (size) => Math.min(20_000, Math.max(32, Math.floor(PREFILL_BYTES / size)));
// Write key ranges: RANGES volumes (as the master picks them) with room for the fastest plausible
// write rate on this machine.
const RANGES = 8;
const rangeKeys = (size) => (size <= 16 * 1024 ? 1_000_000 : 100_000);
// Stop writing when the scratch file system has less free than this.
const MIN_FREE_BYTES = 4 * 1024 ** 3;

installSignalHandlers({ keep: opts.keep });

const log = (...a) => console.error(...a);

function clientThreads() {
  return opts.client === "wrk" ? opts.wrkThreads : 1;
}

function rowDefinitions() {
  const rows = [];
  for (const size of opts.sizes) {
    for (const workload of opts.workloads) {
      for (const connections of opts.connections) {
        rows.push({ id: `${workload} ${size} ${connections}`, workload, size, connections });
      }
    }
  }
  // One core each: reads and writes at 16 clients, the server and the load generator pinned apart.
  for (const size of opts.perCoreSizes) {
    for (const workload of ["read", "write"]) {
      const id = `${workload} ${size} 16 1core`;
      rows.push({ id, workload, size, connections: 16, cores: 1, clientCpus: PER_CORE.client });
    }
  }
  return rows;
}

function freeBytes(dir) {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** `sync`, so one row's dirty pages are not written back on the next row's time. */
/**
 * Writes dirty pages back before a row; before a write row also drops the clean page cache (when
 * allowed: root), so each server's writes start from the same memory state. On a VM whose memory the
 * host lends on first touch, filling pages never used since boot costs several times more than
 * reusing freed ones, and otherwise whichever server ran earlier decides which kind the next gets.
 */
function flushDisks(row) {
  spawnSync("sync", [], { stdio: "ignore" });
  if (row.workload !== "write") return;
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "1");
  } catch {}
}

class Bench {
  constructor(weed, master, work) {
    this.weed = weed;
    this.master = master;
    this.work = work;
    this.bodies = new Map();
    /** The node binary our first server ran on (/proc/PID/exe), for the report. */
    this.oursExe = undefined;
  }

  body(size) {
    let b = this.bodies.get(size);
    if (!b) {
      const data = randomBytes(size);
      const file = join(this.work, `body-${size}.bin`);
      writeFileSync(file, data);
      b = { data, file };
      this.bodies.set(size, b);
    }
    return b;
  }

  /** `rows` (of one object size) against one fresh volume server, then weed benchmark if asked. */
  async suite(volume, rows, { weedBenchmark = false } = {}) {
    const result = { rows: {}, weedBenchmark: null };
    let readList = null;
    let readSize = 0;
    for (const row of rows) {
      if (isStopping()) throw new Error("stopping");
      if (row.workload !== "read" && freeBytes(this.work) < MIN_FREE_BYTES) {
        log(`  ${row.id}: skipped, under ${MIN_FREE_BYTES / 1024 ** 3} GiB free in ${this.work}`);
        continue;
      }
      if (row.workload !== "write" && readSize !== row.size) {
        const count = prefillCount(row.size);
        const started = Date.now();
        const ranges = await reserveRanges(this.master, volume, RANGES, Math.ceil(count / RANGES) + 1);
        const paths = await prefill(volume, ranges, this.body(row.size).data, count);
        readList = join(this.work, `reads-${volume.kind}-${row.size}.txt`);
        writeFileSync(readList, `${paths.join("\n")}\n`);
        readSize = row.size;
        log(
          `  prefilled ${count} × ${sizeLabel(row.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
      }
      result.rows[row.id] = await this.measure(volume, row, readList);
      const m = result.rows[row.id];
      log(
        `  ${rowLabel(row).padEnd(24)}` +
          ` ${m.rps.toFixed(0).padStart(7)} req/s ${m.mbps.toFixed(1).padStart(8)} MB/s` +
          ` p50 ${m.p50ms.toFixed(2)} ms p99 ${m.p99ms.toFixed(2)} ms` +
          ` cpu ${m.cpuUsPerReq.toFixed(1)} µs/req rss ${m.peakRssMb.toFixed(0)} MB` +
          ` (client cpu ${m.clientCpuPct.toFixed(0)}%${m.errors ? `, ${m.errors} ERRORS` : ""})`,
      );
    }
    if (weedBenchmark) result.weedBenchmark = await this.weedBenchmark(volume);
    return result;
  }

  async load(volume, row, readList, seconds) {
    const w = {
      mode: row.workload,
      readPercent: opts.readPercent,
      connections: row.connections,
      threads: Math.min(opts.wrkThreads, row.connections),
      seconds,
      bodyFile: this.body(row.size).file,
      readList,
      ranges: [],
      cpus: row.clientCpus ?? "",
    };
    if (row.workload !== "read") {
      w.ranges = await reserveRanges(this.master, volume, RANGES, rangeKeys(row.size));
    }
    return { result: await runLoad(opts.client, volume, w), w };
  }

  /** Spot check of a measured run that wrote: its uploads landed and read back whole. */
  async verify(volume, row, { result, w }) {
    if (row.workload === "read" || result.requests < 2 * row.connections) return;
    const threads = opts.client === "wrk" ? w.threads : 1;
    const paths = writtenPaths(w.ranges, threads, Math.min(row.connections, 64));
    await verifyAnyRead(volume, paths, this.body(row.size).data);
  }

  async measure(volume, row, readList) {
    flushDisks(row);
    if (opts.warmup > 0) await this.load(volume, row, readList, opts.warmup);
    const sampler = memorySampler(volume.pid);
    const cpuBefore = cpuSeconds(volume.pid);
    const run = await this.load(volume, row, readList, opts.seconds);
    const cpuAfter = cpuSeconds(volume.pid);
    const peakKb = sampler.stop();
    if (isStopping()) throw new Error("stopping");
    await this.verify(volume, row, run);
    const r = run.result;
    if (volume.child.exitCode !== null || volume.child.signalCode !== null) {
      throw new Error(`the ${volume.kind} volume server died during ${row.id}\n${volumeLogTail(volume)}`);
    }
    const seconds = r.durationUs / 1e6;
    const e = r.errors;
    const socketErrors = e.connect + e.read + e.write + e.timeout;
    const ok = Math.max(0, r.requests - e.status);
    return {
      requests: r.requests,
      okRequests: ok,
      seconds,
      rps: ok / seconds,
      mbps: (ok * row.size) / seconds / 1e6,
      p50ms: r.latencyUs.p50 / 1000,
      p90ms: r.latencyUs.p90 / 1000,
      p99ms: r.latencyUs.p99 / 1000,
      meanMs: r.latencyUs.mean / 1000,
      maxMs: r.latencyUs.max / 1000,
      cpuSeconds: cpuAfter - cpuBefore,
      cpuUsPerReq: ok > 0 ? ((cpuAfter - cpuBefore) / ok) * 1e6 : Number.NaN,
      cpuCores: (cpuAfter - cpuBefore) / seconds,
      peakRssMb: peakKb / 1024,
      errors: e.status + socketErrors,
      errorDetail: e,
      clientCpuPct: (r.clientCpuS / seconds) * 100,
    };
  }

  /** weed benchmark -master=... against the one volume server the master knows. */
  /**
   * Reads back the first object weed benchmark wrote: its multipart upload of 1024-1087 bytes
   * must be stored as the file part, not as the whole multipart body.
   */
  async checkWeedBenchmarkObject(volume, list) {
    let fid = "";
    try {
      fid =
        readFileSync(list, "utf8")
          .split("\n")
          .find((l) => l && !l.startsWith("#")) ?? "";
    } catch {}
    if (!fid) return { ok: false, detail: "no fid in the benchmark's list" };
    const res = await fetch(`${volume.url}/${fid}`);
    const body = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get("content-type") ?? "";
    const ok = res.status === 200 && body.length >= 1024 && body.length < 1088 && !MULTIPART.test(type);
    return { ok, fid, status: res.status, bytes: body.length, contentType: type };
  }

  async weedBenchmark(volume) {
    const list = join(this.work, `weed-benchmark-${volume.kind}.txt`);
    const argv = [
      "benchmark",
      `-master=${this.master.address}`,
      `-n=${opts.weedBenchmarkN}`,
      "-c=16",
      "-size=1024",
      "-collection=",
      `-list=${list}`,
    ];
    log(`  weed ${argv.join(" ")}`);
    flushDisks({ workload: "write" });
    const child = startChild(this.weed, argv, { cwd: this.work });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => stopChild(child, "SIGKILL"), 600_000);
    const code = await child.exited;
    clearTimeout(timer);
    const parsed = parseWeedBenchmark(out);
    parsed.exit = code;
    if (code !== 0) parsed.outputTail = out.slice(-3000);
    const failures = out.split("\n").filter((l) => /^Failed to (write|read)|error/i.test(l));
    if (failures.length) parsed.firstFailures = failures.slice(0, 5);
    parsed.contentCheck = await this.checkWeedBenchmarkObject(volume, list);
    log(
      `  weed benchmark: write ${parsed.write?.rps?.toFixed(0) ?? "?"} req/s (${parsed.write?.failed ?? "?"} failed),` +
        ` read ${parsed.read?.rps?.toFixed(0) ?? "?"} req/s (${parsed.read?.failed ?? "?"} failed)` +
        `${parsed.firstFailures ? `; first failure: ${parsed.firstFailures[0]}` : ""}`,
    );
    return parsed;
  }
}

/** Content-Type of a stored upload that kept the multipart envelope instead of the file part. */
const MULTIPART = /^multipart\//i;

/** The "Requests per second" and "Failed requests" of weed benchmark's write and read sections. */
function parseWeedBenchmark(text) {
  const result = {};
  const sections = text.split(/^-+ (.+?) -+$/m);
  for (let i = 1; i + 1 < sections.length; i += 2) {
    const name = /writ/i.test(sections[i]) ? "write" : /read/i.test(sections[i]) ? "read" : null;
    if (!name) continue;
    const body = sections[i + 1];
    const num = (re) => {
      const m = re.exec(body);
      return m ? Number(m[1]) : Number.NaN;
    };
    result[name] = {
      rps: num(/^Requests per second:\s+([\d.]+)/m),
      completed: num(/^Completed requests:\s+(\d+)/m),
      failed: num(/^Failed requests:\s+(\d+)/m),
      seconds: num(/^Time taken for tests:\s+([\d.]+)/m),
      p50ms: num(/^\s+50%\s+([\d.]+) ms/m),
      p99ms: num(/^\s+99%\s+([\d.]+) ms/m),
    };
  }
  return result;
}

/** Caveats the table alone would hide: failed requests, skipped rows, mis-stored uploads. */
function notesFor(runs, summary) {
  const notes = [];
  const name = { go: "Go", ours: "ours" };
  for (const row of summary.rows) {
    for (const kind of ["go", "ours"]) {
      const errs = row[kind]?.rounds.filter((r) => r.errors > 0) ?? [];
      if (errs.length) {
        const e = errs[0].errorDetail;
        notes.push(
          `${row.label}, ${name[kind]}: failed requests in ${errs.length} ` +
            `round(s) (first: ${e.status} HTTP errors, ${e.connect + e.read + e.write} socket errors, ${e.timeout} timeouts).`,
        );
      }
      const few = row[kind]?.rounds.filter((r) => r.okRequests < 5 * row.connections) ?? [];
      if (few.length) {
        notes.push(
          `${row.label}, ${name[kind]}: as few as ${Math.min(...few.map((r) => r.okRequests))} ` +
            "requests completed in a row, under 5 a client: requests cut off at the end weigh heavily, so " +
            "throughput is understated and uncertain (use a longer --duration).",
        );
      }
      if (!row[kind] && opts.servers.includes(kind)) {
        notes.push(`${row.label}, ${name[kind]}: not run (low disk space).`);
      }
    }
  }
  for (const kind of ["go", "ours"]) {
    const bad = runs[kind].map((r) => r.weedBenchmark?.contentCheck).find((c) => c && !c.ok);
    if (bad) {
      notes.push(
        `weed benchmark, ${name[kind]}: an object it uploaded (1024-1087 bytes, multipart) reads back as ` +
          `${bad.bytes ?? "?"} bytes of ${bad.contentType || "no Content-Type"} (status ${bad.status ?? "?"}` +
          `${bad.detail ? `, ${bad.detail}` : ""}): the upload was not stored as its file part, so these ` +
          "write numbers do not compare like for like.",
      );
    }
  }
  return notes;
}

function gitCommit() {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    return dirty ? `${head}+uncommitted` : head;
  } catch {
    return "unknown";
  }
}

/** "24.21.0" of a node binary, as it reports itself. */
function nodeVersionOf(node) {
  const r = spawnSync(node, ["--version"], { encoding: "utf8" });
  return r.stdout?.trim().replace(/^v/, "") || "unknown";
}

function weedVersion(weed) {
  const r = spawnSync(weed, ["version"], { encoding: "utf8" });
  // "version 30GB 4.53  linux amd64"
  const m = /version\s+(\S+)\s+(\S+)/.exec(r.stdout ?? "");
  return m ? `${m[2]} (${m[1]})` : "unknown";
}

async function main() {
  const started = Date.now();
  const weed = ensureWeed();
  const work = scratchDir("seaweed-bench-");
  const rows = rowDefinitions();
  const loadGenerator =
    opts.client === "wrk"
      ? `${wrkVersion().replace(/ Copyright.*/, "")}, ${opts.wrkThreads} thread(s)`
      : "Node worker thread (node:http keep-alive agent)";
  log(
    `bench: ${opts.rounds} round(s) × ${opts.servers.join("+")} × ${rows.length} rows of ${opts.seconds} s ` +
      `(+${opts.warmup} s warm-up); load: ${loadGenerator}; scratch ${work}`,
  );
  const master = await startMaster(weed, work);
  log(`weed master at ${master.url}`);
  const bench = new Bench(weed, master, work);
  // A round is a slot per object size (and one for weed benchmark); in each slot Go and ours run in
  // turn, each on a fresh server and data directory, the order alternating from slot to slot.
  const slots = opts.sizes.map((size) => ({
    label: sizeLabel(size),
    rows: rows.filter((r) => r.size === size && !r.cores),
  }));
  for (const size of opts.perCoreSizes) {
    slots.push({
      label: `${sizeLabel(size)}, one core`,
      rows: rows.filter((r) => r.size === size && r.cores),
      cpus: PER_CORE.server,
    });
  }
  const ours = oursLauncher(opts.oursNode, work);
  if (opts.weedBenchmarkN > 0) slots.push({ label: "weed benchmark", rows: [], weedBenchmark: true });
  const runs = { go: [], ours: [] };
  let turn = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    for (const kind of opts.servers) runs[kind].push({ rows: {}, weedBenchmark: null });
    for (const slot of slots) {
      const order = turn++ % 2 === 0 ? ["go", "ours"] : ["ours", "go"];
      for (const kind of order.filter((k) => opts.servers.includes(k))) {
        log(
          `round ${round}/${opts.rounds}, ${slot.label}: ${kind === "go" ? "Go weed volume" : `ours (${opts.oursNode ? `on ${opts.oursNode}` : "bin/weed-volume"})`}`,
        );
        const volume = await startVolume(kind, weed, master, work, { ours, cpus: slot.cpus ?? "" });
        if (kind === "ours") bench.oursExe ??= realpathSync(`/proc/${volume.pid}/exe`);
        try {
          const r = await bench.suite(volume, slot.rows, { weedBenchmark: slot.weedBenchmark });
          const into = runs[kind][round - 1];
          Object.assign(into.rows, r.rows);
          if (r.weedBenchmark) into.weedBenchmark = r.weedBenchmark;
        } finally {
          if (!isStopping()) await stopVolume(volume, master);
        }
      }
    }
  }

  const startup =
    opts.startupNeedles > 0
      ? await benchStartup({
          weed,
          master,
          work,
          needles: opts.startupNeedles,
          rounds: opts.rounds,
          servers: opts.servers,
          ours,
          log,
        })
      : null;
  const loadtest = opts.loadtestDuration
    ? await benchLoadtest({ weed, servers: opts.servers, sustained: opts.loadtestDuration, ours, log })
    : null;

  const summary = summarize(rows, runs);
  const cpu = cpus()[0]?.model ?? "cpu";
  const meta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    machine: `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 1024 ** 3)} GiB, Linux ${release()}`,
    node: nodeVersionOf(bench.oursExe ?? opts.oursNode ?? process.execPath),
    weedVersion: weedVersion(weed),
    commit: gitCommit(),
    loadGenerator,
    clientThreads: clientThreads(),
    seconds: opts.seconds,
    warmup: opts.warmup,
    rounds: opts.rounds,
    readPercent: opts.readPercent,
    readObjectsNote: `objects written just before (${opts.sizes
      .map((s) => `${prefillCount(s)} × ${sizeLabel(s)}`)
      .join(", ")})`,
    perCoreNote: opts.perCoreSizes.length
      ? `Rows marked "1 core": the volume server pinned to processor ${PER_CORE.server} (taskset, all ` +
        `its threads), the load generator to processor ${PER_CORE.client}, on a fresh server and ` +
        "data directory of their own."
      : "",
    weedBenchmarkNote:
      `\`weed benchmark -n=${opts.weedBenchmarkN} -c=16 -size=1024 -collection=\` against each server in turn ` +
      "(multipart uploads of 1024-1087 bytes through master assigns, then random reads).",
    totalSeconds: Math.round((Date.now() - started) / 1000),
    command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(
      " ",
    ),
    notes: notesFor(runs, summary),
  };
  const md = markdown(summary, meta);
  const svg = throughputSvg(summary, meta);
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, "latest.md"), md);
  writeFileSync(join(opts.out, "throughput.svg"), svg);
  writeFileSync(
    join(opts.out, "latest.json"),
    `${JSON.stringify({ meta, options: opts, rows: summary.rows, weedBenchmark: summary.weedBenchmark, startup, loadtest }, null, 2)}\n`,
  );
  if (opts.doc) {
    const chart = "docs/images/bench-throughput.svg";
    mkdirSync(join(root, "docs", "images"), { recursive: true });
    writeFileSync(join(root, chart), svg);
    const section = benchSection({
      summary,
      startup,
      loadtest,
      meta,
      baseline: opts.compare ? JSON.parse(readFileSync(join(opts.compare, "latest.json"), "utf8")) : null,
      report: md,
      command: meta.command,
      findingsFile: join(root, "bench", "findings.json"),
      chart,
    });
    rewriteBenchmarks(join(root, "BENCHMARKS.md"), section);
    log(`rewrote BENCHMARKS.md and ${chart}`);
  }
  process.stdout.write(`\n${md}`);
  const rel = relative(process.cwd(), opts.out) || ".";
  log(`\nwrote ${rel}/latest.md, latest.json, throughput.svg (${meta.totalSeconds} s in all)`);
}

try {
  await main();
  await cleanupAll({ keep: opts.keep });
} catch (err) {
  if (!isStopping()) {
    console.error(`bench failed: ${err.stack ?? err}`);
    await cleanupAll({ keep: opts.keep });
    process.exit(1);
  }
}
