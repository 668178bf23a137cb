// The GfKernel backed by the WebAssembly SIMD module built from wasm/reed-solomon/gf-kernel.ts by
// scripts/build-wasm.mjs. WebAssembly code reads only its own linear memory, so shards are streamed
// through it in chunks small enough to stay in cache: each chunk of every input is copied in, the
// module computes the matching chunk of every output, and those are copied back out.
//
// Linear memory from the module's scratchStart():
//   nibble tables  256 x 32 bytes, written once (see NIBBLE_TABLES)
//   coefficients   outputs x inputs bytes of the current call
//   tables         outputs x inputs x 32 bytes: the nibble table of each coefficient
//   inputs         inputs x stride bytes: the current chunk of each input
//   outputs        outputs x stride bytes: the current chunk of each output

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ArenaRows, type CodingArena, checkArenaArgs } from "./arena.js";
import { NIBBLE_TABLES } from "./galois.js";
import { checkMatrixArgs, type GfKernel } from "./kernel.js";

// Node.js has WebAssembly, but the project's lib settings (ES2024, no DOM) do not declare it: the
// little used here, declared for this module only.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

interface KernelExports {
  memory: WasmMemory;
  scratchStart(): number;
  expandTables(nibbleTables: number, coefficients: number, count: number, tables: number): void;
  mulMatrix(
    tables: number,
    inputCount: number,
    outputCount: number,
    inputs: number,
    outputs: number,
    stride: number,
    length: number,
    accumulate: number,
  ): void;
}

/** Where the build puts the module, relative to this file's compiled location in dist/src/... */
export const WASM_KERNEL_PATH = fileURLToPath(
  new URL("../../../../wasm/reed-solomon/gf-kernel.wasm", import.meta.url),
);

/** Bytes of input and output chunks together per module call: well inside a core's L2 cache. */
const CHUNK_BUDGET = 192 * 1024;
const MIN_STRIDE = 1024;
const PAGE = 65536;

const align16 = (n: number) => (n + 15) & ~15;

class WasmKernel implements GfKernel {
  readonly name = "wasm-simd";
  readonly #exports: KernelExports;
  readonly #nibbleTables: number;
  readonly #coefficients: number;
  #bytes: Uint8Array;

  constructor(exports: KernelExports) {
    this.#exports = exports;
    this.#nibbleTables = align16(exports.scratchStart());
    this.#coefficients = this.#nibbleTables + NIBBLE_TABLES.length;
    this.#bytes = new Uint8Array(exports.memory.buffer);
    this.#reserve(this.#coefficients);
    this.#bytes.set(NIBBLE_TABLES, this.#nibbleTables);
  }

  /** Grows linear memory to at least `end` bytes and refreshes the view (growing detaches it). */
  #reserve(end: number): Uint8Array {
    const memory = this.#exports.memory;
    if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
    if (this.#bytes.buffer !== memory.buffer) this.#bytes = new Uint8Array(memory.buffer);
    return this.#bytes;
  }

  mulMatrix(
    coefficients: Uint8Array,
    inputs: readonly Uint8Array[],
    outputs: readonly Uint8Array[],
    length: number,
    accumulate: boolean,
  ): void {
    checkMatrixArgs(coefficients, inputs, outputs, length);
    const inputCount = inputs.length;
    const outputCount = outputs.length;
    if (outputCount === 0 || length === 0) return;
    const count = inputCount * outputCount;
    const rows = inputCount + outputCount;
    const stride = Math.min(align16(length), Math.max(MIN_STRIDE, Math.floor(CHUNK_BUDGET / rows) & ~15));
    const tables = align16(this.#coefficients + count);
    const inputBase = tables + count * 32;
    const outputBase = inputBase + inputCount * stride;
    const bytes = this.#reserve(outputBase + outputCount * stride);
    const ex = this.#exports;

    bytes.set(coefficients.subarray(0, count), this.#coefficients);
    ex.expandTables(this.#nibbleTables, this.#coefficients, count, tables);
    for (let offset = 0; offset < length; offset += stride) {
      const n = Math.min(stride, length - offset);
      for (let j = 0; j < inputCount; j++) {
        bytes.set(inputs[j]!.subarray(offset, offset + n), inputBase + j * stride);
      }
      if (accumulate) {
        for (let k = 0; k < outputCount; k++) {
          bytes.set(outputs[k]!.subarray(offset, offset + n), outputBase + k * stride);
        }
      }
      ex.mulMatrix(tables, inputCount, outputCount, inputBase, outputBase, stride, n, accumulate ? 1 : 0);
      for (let k = 0; k < outputCount; k++) {
        const at = outputBase + k * stride;
        outputs[k]!.set(bytes.subarray(at, at + n), offset);
      }
    }
  }

  mulAdd(c: number, input: Uint8Array, output: Uint8Array, length: number): void {
    this.mulMatrix(Uint8Array.of(c), [input], [output], length, true);
  }
}

function instantiate(path: string): KernelExports {
  const module = new WebAssembly.Module(readFileSync(path));
  return new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
}

/**
 * Instantiates the SIMD kernel from `path` (the built module by default). Throws when the file is
 * missing or this runtime cannot compile WebAssembly SIMD.
 */
export function loadWasmKernel(path: string = WASM_KERNEL_PATH): GfKernel {
  return new WasmKernel(instantiate(path));
}

/** Most coefficients (outputs x inputs) one arena call takes: 32 x 32, the most shards EC allows. */
const ARENA_MAX_COEFFICIENTS = 32 * 32;

/**
 * A CodingArena in the linear memory of its own module instance: shards are read straight into it
 * and written straight from it, and the module codes them in place, with no copy in or out.
 */
class WasmArena implements CodingArena {
  readonly bytes: Uint8Array;
  readonly #exports: KernelExports;
  readonly #memory: Uint8Array;
  readonly #nibbleTables: number;
  readonly #coefficients: number;
  readonly #tables: number;
  readonly #start: number;

  constructor(exports: KernelExports, size: number) {
    this.#exports = exports;
    this.#nibbleTables = align16(exports.scratchStart());
    this.#coefficients = this.#nibbleTables + NIBBLE_TABLES.length;
    this.#tables = align16(this.#coefficients + ARENA_MAX_COEFFICIENTS);
    // Page-aligned, so every shard slice starts on a page boundary.
    this.#start = Math.ceil((this.#tables + ARENA_MAX_COEFFICIENTS * 32) / 4096) * 4096;
    const memory = exports.memory;
    const end = this.#start + size;
    if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
    // The memory never grows again, so these views stay attached.
    this.#memory = new Uint8Array(memory.buffer);
    this.#memory.set(NIBBLE_TABLES, this.#nibbleTables);
    this.bytes = new Uint8Array(memory.buffer, this.#start, size);
  }

  mulMatrix(coefficients: Uint8Array, rows: ArenaRows): void {
    checkArenaArgs(this.bytes.length, ARENA_MAX_COEFFICIENTS, rows);
    const { inputCount, outputCount, inputAt, outputAt, stride, length } = rows;
    const count = inputCount * outputCount;
    if (count === 0 || length === 0) return;
    this.#memory.set(coefficients.subarray(0, count), this.#coefficients);
    const ex = this.#exports;
    ex.expandTables(this.#nibbleTables, this.#coefficients, count, this.#tables);
    const start = this.#start;
    ex.mulMatrix(this.#tables, inputCount, outputCount, start + inputAt, start + outputAt, stride, length, 0);
  }
}

/** An arena of `size` bytes in a fresh instance of the SIMD module; throws as loadWasmKernel does. */
export function loadWasmArena(size: number, path: string = WASM_KERNEL_PATH): CodingArena {
  return new WasmArena(instantiate(path), size);
}
