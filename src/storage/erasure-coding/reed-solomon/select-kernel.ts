// Picks the fastest kernel this process can run: the WebAssembly SIMD one when its built module
// loads, else the TypeScript reference. Decided once, on first use.

import { type GfKernel, referenceKernel } from "./kernel.js";
import { loadWasmKernel } from "./wasm-kernel.js";

let chosen: GfKernel | undefined;
let fallbackReason: string | undefined;

export function defaultKernel(): GfKernel {
  if (chosen === undefined) {
    try {
      chosen = loadWasmKernel();
    } catch (err) {
      fallbackReason = err instanceof Error ? err.message : String(err);
      chosen = referenceKernel;
    }
  }
  return chosen;
}

/** Why defaultKernel() is the reference kernel, or undefined when it is not (or not yet chosen). */
export function kernelFallbackReason(): string | undefined {
  return fallbackReason;
}
