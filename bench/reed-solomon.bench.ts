// node dist/bench/reed-solomon.bench.js — Reed-Solomon throughput for SeaweedFS's default 10+4 layout
// with 1 MiB shards: encode, and rebuild with 4 shards lost (4 data shards, the costliest case, and 2
// data + 2 parity), for the TypeScript reference kernel and the WebAssembly SIMD kernel. Throughput is
// MB/s (10^6 bytes) of data shards processed, as Go's reedsolomon benchmarks count it (SetBytes of
// data shards x shard size). Prints a Markdown table for BENCHMARKS.md.

import { existsSync } from "node:fs";
import {
  type GfKernel,
  loadWasmKernel,
  ReedSolomon,
  referenceKernel,
  WASM_KERNEL_PATH,
} from "../src/storage/erasure-coding/reed-solomon/index.js";

const DATA = 10;
const PARITY = 4;
const SHARD = 1 << 20;
const MIN_SECONDS = 2;

function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Runs `op` once to warm up, then until MIN_SECONDS have passed; returns MB/s of `bytes` per op. */
function measure(bytes: number, op: () => void): number {
  op();
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < MIN_SECONDS || runs < 3) {
    op();
    runs++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return (bytes * runs) / elapsed / 1e6;
}

const kernels: GfKernel[] = [referenceKernel];
if (existsSync(WASM_KERNEL_PATH)) kernels.push(loadWasmKernel());
else console.error(`(no ${WASM_KERNEL_PATH}: run node scripts/build-wasm.mjs for the WASM kernel)`);

const data = Array.from({ length: DATA }, (_, i) => fill(SHARD, i + 1));
const rows: [string, string][] = [];
for (const kernel of kernels) {
  const rs = new ReedSolomon(DATA, PARITY, { kernel });
  const parity = Array.from({ length: PARITY }, () => new Uint8Array(SHARD));
  const encode = measure(DATA * SHARD, () => rs.encode(data, parity));
  rows.push([`${kernel.name}: encode 10+4, 1 MiB shards (MB/s of data)`, encode.toFixed(0)]);

  const all = [...data, ...parity];
  const patterns: [string, number[]][] = [
    ["4 data shards lost", [0, 3, 6, 9]],
    ["2 data + 2 parity lost", [1, 5, 10, 13]],
  ];
  for (const [label, lost] of patterns) {
    const present = all.map((_, i) => !lost.includes(i));
    // Reuse the rebuilt buffers between runs, as a rebuild loop over a volume would.
    const spare = lost.map(() => new Uint8Array(SHARD));
    const shards: (Uint8Array | undefined)[] = all.slice();
    const rate = measure(DATA * SHARD, () => {
      lost.forEach((i, n) => {
        shards[i] = spare[n];
      });
      rs.reconstruct(shards, present);
    });
    lost.forEach((i) => {
      if (!Buffer.from(shards[i]!).equals(all[i]!))
        throw new Error(`${kernel.name}: shard ${i} rebuilt wrong`);
    });
    rows.push([`${kernel.name}: rebuild 10+4, ${label} (MB/s of data)`, rate.toFixed(0)]);
  }
}

console.log("| measure | value |");
console.log("| --- | --- |");
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
