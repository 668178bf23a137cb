// Processes for scripts/bench.mjs: the pinned `weed master`, the Go `weed volume` and our
// bin/weed-volume on free loopback ports, /proc readings of a server's CPU time and memory, and the
// bookkeeping that stops every child and removes every scratch directory on exit, on an error and
// on Ctrl-C.

import { spawn } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./weed.mjs";

export const IP = "127.0.0.1";
const launcher = join(root, "bin", "weed-volume");

// ---------------------------------------------------------------------------------------------
// Cleanup: every child and scratch directory is registered here.

const children = new Set();
const dirs = new Set();
let stopping = false;

export function isStopping() {
  return stopping;
}

/** A scratch directory under the system temp dir, removed on exit. */
export function scratchDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** Spawns a tracked child, its output appended to logFile (or piped when logFile is null). */
export function startChild(command, args, { logFile = null, env = process.env, cwd = root } = {}) {
  const stdio = logFile
    ? ["ignore", openSync(logFile, "a"), openSync(logFile, "a")]
    : ["ignore", "pipe", "pipe"];
  const child = spawn(command, args, { cwd, env, stdio });
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      children.delete(child);
      resolve(signal ?? code);
    });
    child.on("error", (err) => {
      children.delete(child);
      resolve(err);
    });
  });
  return child;
}

/** Stops a child: `signal`, then SIGKILL after `graceMs`. */
export async function stopChild(child, signal = "SIGINT", graceMs = 10_000) {
  if (alive(child)) child.kill(signal);
  const timer = setTimeout(() => alive(child) && child.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Stops every child still running and removes every scratch directory. */
export async function cleanupAll({ keep = false } = {}) {
  await Promise.all([...children].map((c) => stopChild(c, "SIGINT", 5_000)));
  if (!keep) for (const d of [...dirs]) removeDir(d);
}

function cleanupSync() {
  for (const c of children) if (alive(c)) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Ctrl-C (and SIGTERM, SIGHUP): stop the children, remove the scratch dirs, exit 130. */
export function installSignalHandlers({ keep = false } = {}) {
  const onSignal = (signal) => {
    if (stopping) {
      // A second Ctrl-C: no more waiting.
      cleanupSync();
      process.exit(130);
    }
    stopping = true;
    console.error(`\n${signal}: stopping servers and removing scratch directories...`);
    cleanupAll({ keep }).finally(() => process.exit(130));
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, onSignal);
  // Whatever way the process ends, no child outlives it.
  process.on("exit", () => {
    for (const c of children) if (alive(c)) c.kill("SIGKILL");
    if (!keep) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Ports and HTTP polling.

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, IP, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function getJson(url, timeoutMs = 10_000) {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

export async function waitUntil(what, check, timeoutMs = 60_000, child = null) {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (stopping) throw new Error("stopping");
    if (child && !alive(child))
      throw new Error(`${what}: the process exited (${child.exitCode ?? child.signalCode})`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err.message;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (${lastError})` : ""}`);
}

function logTail(file, lines = 30) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------------
// The master and the volume servers.

export async function startMaster(weed, workDir) {
  const port = await freePort();
  const grpcPort = await freePort();
  const mdir = join(workDir, "master");
  mkdirSync(mdir, { recursive: true });
  const logFile = join(workDir, "master.log");
  const child = startChild(
    weed,
    [
      "master",
      `-ip=${IP}`,
      `-port=${port}`,
      `-port.grpc=${grpcPort}`,
      `-mdir=${mdir}`,
      "-peers=none",
      "-defaultReplication=000",
    ],
    { logFile, cwd: workDir },
  );
  const url = `http://${IP}:${port}`;
  try {
    await waitUntil("weed master", async () => (await fetch(`${url}/dir/status`)).ok, 60_000, child);
  } catch (err) {
    throw new Error(`${err.message}\n--- master.log ---\n${logTail(logFile)}`);
  }
  return { port, grpcPort, url, address: `${IP}:${port}.${grpcPort}`, child, logFile };
}

/** Urls ("ip:port") of the data nodes the master knows. */
export async function masterDataNodes(master) {
  const status = await getJson(`${master.url}/dir/status`);
  const nodes = [];
  for (const dc of status?.Topology?.DataCenters ?? []) {
    for (const rack of dc.Racks ?? []) for (const dn of rack.DataNodes ?? []) nodes.push(dn.Url);
  }
  return nodes;
}

/**
 * How our server starts: through `launcher` (bin/weed-volume, or a wrapper that runs main.js on
 * another Node.js: see oursLauncher). BENCH_CPU_PROF=DIR runs it on the bench's own node with a V8
 * CPU profile written into DIR when the server exits, for a look at the hot functions under load.
 */
function oursCommand(args, launcher) {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return [launcher, args];
  return [
    process.execPath,
    ["--cpu-prof", `--cpu-prof-dir=${dir}`, join(root, "dist/src/cli/main.js"), ...args],
  ];
}

/**
 * The launcher of ours: bin/weed-volume (the project's pinned Node.js), or, given `node` (a path),
 * a wrapper in `workDir` that runs dist/src/cli/main.js on that Node.js, past the launcher's
 * version check: a baseline measured on an older runtime.
 */
export function oursLauncher(node, workDir) {
  if (!node) return launcher;
  const wrapper = join(workDir, "weed-volume-on-node");
  writeFileSync(wrapper, `#!/bin/sh\nexec '${node}' '${join(root, "dist/src/cli/main.js")}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** `command args` run on the given processors only (taskset), or as it is when `cpus` is empty. */
export function pinned(cpus, command, args) {
  return cpus ? ["taskset", ["-c", cpus, command, ...args]] : [command, args];
}

/**
 * Spawns a volume server, Go's (`weed volume`) or ours (the launcher `ours`),
 * with the same flags, on `dataDir` (a fresh one when not given) plus `extraArgs`, on the processors
 * `cpus` (taskset; all when empty), without waiting for it; `spawnedAt` is performance.now() just
 * before the spawn.
 */
export async function spawnVolume(
  kind,
  weed,
  master,
  workDir,
  { dataDir = null, extraArgs = [], ours = launcher, cpus = "" } = {},
) {
  const port = await freePort();
  const grpcPort = await freePort();
  const dir = dataDir ?? mkdtempSync(join(workDir, `${kind}-data-`));
  const logFile = join(workDir, `${kind}-volume-${port}.log`);
  const args = [
    `-port=${port}`,
    `-port.grpc=${grpcPort}`,
    `-ip=${IP}`,
    `-dir=${dir}`,
    "-max=8",
    `-master=${master.address}`,
    "-preStopSeconds=0",
    ...extraArgs,
  ];
  const spawnedAt = performance.now();
  const [command, argv] = kind === "go" ? [weed, ["volume", ...args]] : oursCommand(args, ours);
  const child = startChild(...pinned(cpus, command, argv), { logFile, cwd: workDir });
  const address = `${IP}:${port}`;
  const url = `http://${address}`;
  return { kind, port, grpcPort, address, url, dataDir: dir, logFile, child, pid: child.pid, spawnedAt };
}

/** A spawned volume server once it is healthy and the master lists it as its only data node. */
export async function startVolume(kind, weed, master, workDir, options = {}) {
  const volume = await spawnVolume(kind, weed, master, workDir, options);
  const { child, url, address } = volume;
  try {
    await waitUntil(
      `${kind} volume server /status`,
      async () => (await fetch(`${url}/status`)).ok,
      60_000,
      child,
    );
    await waitUntil(
      `the master to list only the ${kind} volume server`,
      async () => {
        const nodes = await masterDataNodes(master);
        return nodes.length === 1 && nodes[0] === address;
      },
      60_000,
      child,
    );
  } catch (err) {
    await stopChild(child, "SIGKILL");
    throw new Error(`${err.message}\n--- ${kind} volume log ---\n${logTail(volume.logFile)}`);
  }
  return volume;
}

/** Stops a volume server, waits until the master has dropped it, and removes its data. */
export async function stopVolume(volume, master) {
  await stopChild(volume.child, "SIGINT", 15_000);
  try {
    await waitUntil(
      `the master to drop ${volume.address}`,
      async () => !(await masterDataNodes(master)).includes(volume.address),
      30_000,
    );
  } finally {
    rmSync(volume.dataDir, { recursive: true, force: true });
  }
}

export function volumeLogTail(volume, lines = 30) {
  return logTail(volume.logFile, lines);
}

// ---------------------------------------------------------------------------------------------
// /proc readings.

const CLOCK_TICKS = 100; // USER_HZ; `getconf CLK_TCK` is 100 on every Linux this runs on

/** User + system CPU seconds a process has used so far (all its threads), or NaN when gone. */
/** A process and its descendants (our server's reader processes, SEAWEED_READERS). */
function processTree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${all[i]}/task`)) {
        const kids = readFileSync(`/proc/${all[i]}/task/${task}/children`, "utf8").trim();
        if (kids) for (const kid of kids.split(" ")) all.push(Number(kid));
      }
    } catch {}
  }
  return all;
}

function ownCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds used so far by a process and its descendants. */
export function cpuSeconds(pid) {
  let total = 0;
  for (const p of processTree(pid)) {
    const own = ownCpuSeconds(p);
    if (p === pid || !Number.isNaN(own)) total += own;
  }
  return total;
}

function statusKb(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** A field of /proc/<pid>/status summed over the process and its descendants. */
export function treeKb(pid, field) {
  let total = 0;
  for (const p of processTree(pid)) {
    const kb = statusKb(p, field);
    if (p === pid || !Number.isNaN(kb)) total += kb;
  }
  return total;
}

/**
 * Peak resident memory of a process over a stretch of time: VmHWM is reset at the start (writing 5
 * to clear_refs, when permitted) and VmRSS is sampled every `everyMs`; `stop()` answers the larger
 * in kB.
 */
export function memorySampler(pid, everyMs = 100) {
  let hwmReset = false;
  for (const p of processTree(pid)) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, "5");
      hwmReset = true;
    } catch {}
  }
  let peak = treeKb(pid, "VmRSS");
  const timer = setInterval(() => {
    const rss = treeKb(pid, "VmRSS");
    if (rss > peak) peak = rss;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const rss = treeKb(pid, "VmRSS");
      if (rss > peak) peak = rss;
      if (hwmReset) {
        // Summed per-process peaks: an upper bound when there are several processes.
        const hwm = treeKb(pid, "VmHWM");
        if (hwm > peak) peak = hwm;
      }
      return peak;
    },
  };
}
