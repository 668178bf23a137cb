// Compiles the AssemblyScript WebAssembly kernels to dist/wasm/ (built, never committed). Today that is
// the Reed-Solomon GF(2^8) SIMD kernel: wasm/reed-solomon/gf-kernel.ts -> dist/wasm/reed-solomon/
// gf-kernel.wasm, loaded by src/storage/erasure-coding/reed-solomon/wasm-kernel.ts. When the .wasm
// is missing the codec falls back to its TypeScript kernel, so this step speeds things up but is not
// needed for correctness.
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import asc from "assemblyscript/asc";
import { root } from "./lib/weed.mjs";

const kernels = [
  { source: "wasm/reed-solomon/gf-kernel.ts", output: "dist/wasm/reed-solomon/gf-kernel.wasm" },
];

for (const { source, output } of kernels) {
  mkdirSync(dirname(join(root, output)), { recursive: true });
  const args = [
    join(root, source),
    "--outFile",
    join(root, output),
    "--optimizeLevel",
    "3",
    "--shrinkLevel",
    "0",
    "--runtime",
    "stub",
    "--noAssert",
    "--enable",
    "simd",
    // No host imports: the kernels never abort, trace or read the clock.
    "--use",
    "abort=",
  ];
  const { error, stderr } = await asc.main(args, {});
  if (error) {
    console.error(stderr.toString());
    console.error(`build-wasm: ${source}: ${error.message}`);
    process.exit(1);
  }
  const bytes = readFileSync(join(root, output));
  if (!WebAssembly.validate(bytes)) {
    console.error(`build-wasm: ${output} does not validate on this Node.js`);
    process.exit(1);
  }
  console.log(`build-wasm: ${relative(root, join(root, output))} (${bytes.length} bytes)`);
}
