// Profiling and log flags on our real binary behind the real Go master: -cpuprofile/-memprofile
// write V8 profiles at shutdown, -debug serves /debug/pprof/ on -debug.port, -pprof on the admin
// port, -logdir writes glog-named files (with the weed.INFO symlink), -log_json JSON lines.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { freePort, type Master, scratchDir, startMaster, startVolume } from "../support/processes.js";

const { dir, cleanup } = scratchDir("wv-prof-");
let master: Master;
before(async () => {
  master = await startMaster(dir);
});
after(async () => {
  await master.proc.stop();
  cleanup();
});

test("-cpuprofile, -memprofile, -debug and -logdir", async () => {
  const data = join(dir, "a");
  const logDir = join(dir, "logs");
  const debugPort = await freePort();
  mkdirSync(data);
  mkdirSync(logDir);
  const volume = await startVolume("ours", dir, data, master, [
    `-cpuprofile=${join(dir, "cpu.cpuprofile")}`,
    `-memprofile=${join(dir, "mem.heapsnapshot")}`,
    "-debug",
    `-debug.port=${debugPort}`,
    `-logdir=${logDir}`,
    "-v=1",
  ]);
  const profile = await fetch(`http://127.0.0.1:${debugPort}/debug/pprof/profile?seconds=1`);
  assert.equal(profile.status, 200);
  assert.ok(Array.isArray(((await profile.json()) as { nodes: unknown[] }).nodes));
  assert.equal(await volume.proc.stop("SIGTERM"), 0);

  const cpu = JSON.parse(readFileSync(join(dir, "cpu.cpuprofile"), "utf8")) as { nodes: unknown[] };
  assert.ok(cpu.nodes.length > 0);
  const heap = JSON.parse(readFileSync(join(dir, "mem.heapsnapshot"), "utf8")) as { snapshot: object };
  assert.ok(heap.snapshot);

  const host = hostname().split(".")[0];
  const infoFiles = readdirSync(logDir).filter((f) =>
    new RegExp(`^weed\\.${host}\\.[^.]+\\.log\\.INFO\\.\\d{8}-\\d{6}\\.\\d+$`).test(f),
  );
  assert.equal(infoFiles.length, 1, readdirSync(logDir).join(" "));
  assert.equal(readlinkSync(join(logDir, "weed.INFO")), infoFiles[0]);
  const info = readFileSync(join(logDir, infoFiles[0]!), "utf8");
  assert.match(info, /^Log file created at: /);
  assert.match(info, /^I\d{4} \d\d:\d\d:\d\d\.\d{6} \d+ start volume server/m);
  assert.doesNotMatch(volume.proc.log(), /not yet implemented/);
});

test("-pprof on the admin port and -log_json", async () => {
  const data = join(dir, "b");
  mkdirSync(data);
  const volume = await startVolume("ours", dir, data, master, [
    "-pprof",
    "-log_json",
    `-cpuprofile=${join(dir, "not-written.cpuprofile")}`,
  ]);
  const index = await fetch(`${volume.url}/debug/pprof/`);
  assert.match(await index.text(), /profile\?seconds=/);
  const profile = await fetch(`${volume.url}/debug/pprof/profile?seconds=1`);
  assert.ok(Array.isArray(((await profile.json()) as { nodes: unknown[] }).nodes));
  assert.equal(await volume.proc.stop("SIGTERM"), 0);
  assert.ok(!existsSync(join(dir, "not-written.cpuprofile")), "-pprof precludes -cpuprofile");
  const lines = volume.proc
    .log()
    .split("\n")
    .filter((l) => l.startsWith("{"));
  assert.ok(lines.length > 3);
  for (const l of lines) {
    const entry = JSON.parse(l) as { ts: string; level: string; msg: string };
    assert.ok(entry.ts && entry.level && typeof entry.msg === "string", l);
  }
});
