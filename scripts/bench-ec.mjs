#!/usr/bin/env node

// EC encode and rebuild, ours against the Go `weed volume`, on the same volume: each server gets a
// copy of one .dat (random data after a super block, empty .idx) as volume 1; VolumeEcShardsGenerate
// is timed from the client, then 4 shards (2 data, 2 parity) are deleted and VolumeEcShardsRebuild
// timed. Prints a Markdown table. Usage: npm run build && node scripts/bench-ec.mjs [--mb 1024] [--runs 3]

import { randomFillSync } from "node:crypto";
import { closeSync, copyFileSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";

const root = new URL("../", import.meta.url).pathname;
const { scratchDir, startMaster, startVolume } = await import(join(root, "dist/test/support/processes.js"));
const pb = await import(join(root, "dist/src/pb/volume_server.js"));

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const sizeMb = arg("mb", 1024);
const runs = arg("runs", 3);

function makeVolume(dir) {
  const fd = openSync(join(dir, "src.dat"), "w");
  writeSync(fd, Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]));
  const chunk = Buffer.allocUnsafe(8 << 20);
  for (let left = sizeMb << 20; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  }
  closeSync(fd);
  writeFileSync(join(dir, "src.idx"), Buffer.alloc(0));
}

function rpc(client, method, request) {
  return new Promise((resolve, reject) =>
    client[method](request, { deadline: Date.now() + 600_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

async function measure(kind, scratch, master) {
  const dir = join(scratch.dir, kind);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(scratch.dir, "src.dat"), join(dir, "1.dat"));
  copyFileSync(join(scratch.dir, "src.idx"), join(dir, "1.idx"));
  const server = await startVolume(kind, scratch.dir, dir, master);
  const client = new pb.VolumeServerClient(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
  const encode = [];
  const rebuild = [];
  try {
    for (let r = 0; r < runs; r++) {
      let t = performance.now();
      await rpc(client, "volumeEcShardsGenerate", pb.VolumeEcShardsGenerateRequest.create({ volumeId: 1 }));
      encode.push((performance.now() - t) / 1000);
      for (const s of [0, 5, 10, 13]) rmSync(join(dir, `1.ec${String(s).padStart(2, "0")}`));
      t = performance.now();
      await rpc(client, "volumeEcShardsRebuild", pb.VolumeEcShardsRebuildRequest.create({ volumeId: 1 }));
      rebuild.push((performance.now() - t) / 1000);
    }
  } finally {
    client.close();
    await server.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const best = (xs) => Math.min(...xs);
  return { encode: best(encode), rebuild: best(rebuild) };
}

const scratch = scratchDir("bench-ec-");
try {
  const master = await startMaster(scratch.dir);
  makeVolume(scratch.dir);
  const go = await measure("go", scratch, master);
  const ours = await measure("ours", scratch, master);
  await master.proc.stop();
  const mibs = (s) => (sizeMb / s).toFixed(0);
  console.log(`| ${sizeMb} MiB volume, best of ${runs} | Go weed | ours | ours/Go speed |`);
  console.log("| --- | --- | --- | --- |");
  console.log(
    `| EC encode (VolumeEcShardsGenerate), s (MiB/s) | ${go.encode.toFixed(2)} (${mibs(go.encode)}) | ${ours.encode.toFixed(2)} (${mibs(ours.encode)}) | ${(go.encode / ours.encode).toFixed(2)}× |`,
  );
  console.log(
    `| EC rebuild of 4 shards (VolumeEcShardsRebuild), s | ${go.rebuild.toFixed(2)} | ${ours.rebuild.toFixed(2)} | ${(go.rebuild / ours.rebuild).toFixed(2)}× |`,
  );
} finally {
  scratch.cleanup();
}
