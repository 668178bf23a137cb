// Prometheus metrics against the real Go volume server: each server (ours, weed's) runs behind its
// own real Go master with -metricsPort, gets the same requests (upload, read, missing read,
// delete), and the SeaweedFS_volumeServer_* families and their label names must match, as must
// the process_* families both runtimes export. The diff of all names is printed for the record.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  freePort,
  type Master,
  scratchDir,
  startMaster,
  startVolume,
  type VolumeProc,
} from "../support/processes.js";

const { dir, cleanup } = scratchDir("wv-metrics-");
const running: { stop(): Promise<unknown> }[] = [];
after(async () => {
  for (const p of running.reverse()) await p.stop();
  cleanup();
});

/** family name → label names seen on its samples (histogram suffixes folded, `le` dropped). */
export function parseExposition(text: string): Map<string, Set<string>> {
  const families = new Map<string, Set<string>>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const typeLine = /^# TYPE (\S+) (\S+)/.exec(line);
    if (typeLine) {
      types.set(typeLine[1]!, typeLine[2]!);
      families.set(typeLine[1]!, families.get(typeLine[1]!) ?? new Set());
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{([^}]*)\})? (\S+)/.exec(line);
    assert.ok(sample, `unparsable exposition line: ${line}`);
    let name = sample[1]!;
    const base = name.replace(/_(bucket|sum|count)$/, "");
    if (base !== name && types.get(base) === "histogram") name = base;
    assert.ok(!Number.isNaN(Number(sample[4])) || /^[+-]?Inf$/.test(sample[4]!), line);
    const labels = families.get(name) ?? new Set<string>();
    for (const m of (sample[3] ?? "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g))
      if (m[1] !== "le") labels.add(m[1]!);
    families.set(name, labels);
  }
  return families;
}

async function workload(master: Master, volume: VolumeProc): Promise<void> {
  // The master can assign once the volume server's first heartbeat is in.
  let assign: { fid?: string } = {};
  for (let i = 0; i < 100 && !assign.fid; i++) {
    assign = (await (await fetch(`${master.url}/dir/assign`)).json()) as { fid?: string };
    if (!assign.fid) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(assign.fid, JSON.stringify(assign));
  const url = `${volume.url}/${assign.fid}`;
  const put = await fetch(url, {
    method: "POST",
    body: "metrics",
    headers: { "Content-Type": "text/plain" },
  });
  assert.equal(put.status, 201);
  assert.equal(await (await fetch(url)).text(), "metrics");
  const missing = await fetch(`${volume.url}/${assign.fid.split(",")[0]},0000000100000001`);
  await missing.arrayBuffer();
  assert.equal(missing.status, 404);
  assert.equal((await fetch(url, { method: "DELETE" })).status, 202);
}

async function scrape(kind: "ours" | "go"): Promise<Map<string, Set<string>>> {
  const sub = join(dir, kind);
  const master = await startMaster(sub);
  running.push(master.proc);
  const metricsPort = await freePort();
  const volume = await startVolume(kind, sub, sub, master, [
    `-metricsPort=${metricsPort}`,
    "-metricsIp=127.0.0.1",
  ]);
  running.push(volume.proc);
  await workload(master, volume);
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

test("our /metrics names the volume server's metrics and labels as weed's", async () => {
  const ours = await scrape("ours");
  const go = await scrape("go");
  const relevant = (name: string) =>
    name.startsWith("SeaweedFS_volumeServer_") || name.startsWith("process_");
  const onlyGo = [...go.keys()].filter((n) => !ours.has(n)).sort();
  const onlyOurs = [...ours.keys()].filter((n) => !go.has(n)).sort();
  process.stdout.write(
    `metric families: go ${go.size}, ours ${ours.size}\nonly in go: ${onlyGo.join(" ")}\nonly in ours: ${onlyOurs.join(" ")}\n`,
  );
  assert.deepEqual(onlyGo.filter(relevant), [], "volume server metrics weed has and we do not");
  for (const [name, labels] of go) {
    if (!relevant(name)) continue;
    assert.deepEqual([...(ours.get(name) ?? [])].sort(), [...labels].sort(), `labels of ${name}`);
  }
});

test("metrics are pushed to the gateway the master names in its configuration", async () => {
  const sub = join(dir, "push");
  const pushes: { url: string; body: string }[] = [];
  // A stand-in for the Prometheus push gateway: it records what it receives.
  const gateway = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      pushes.push({ url: `${req.method} ${req.url}`, body: Buffer.concat(chunks).toString() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", r));
  running.push({ stop: () => new Promise((r) => gateway.close(r)) });
  const gatewayPort = (gateway.address() as AddressInfo).port;
  const master = await startMaster(sub, [
    `-metrics.address=127.0.0.1:${gatewayPort}`,
    "-metrics.intervalSeconds=1",
  ]);
  running.push(master.proc);
  const volume = await startVolume("ours", sub, sub, master);
  running.push(volume.proc);
  // The master pushes its own metrics too (job masterServer); ours come as job volumeServer, the
  // instance escaped as Go's push client escapes it.
  const ours = `PUT /metrics/job/volumeServer/instance/127.0.0.1%3A${volume.port}`;
  const deadline = Date.now() + 20_000;
  while (!pushes.some((p) => p.url === ours) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  const push = pushes.find((p) => p.url === ours);
  assert.ok(push, `no push from us among ${pushes.map((p) => p.url).join(", ")}`);
  assert.match(push.body, /^SeaweedFS_volumeServer_start_time_seconds \d+$/m);
});
