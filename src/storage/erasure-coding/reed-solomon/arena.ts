// A coding arena: one block of memory the encoder and the rebuild read shards into, code in place
// and write shards from. With the WebAssembly kernel the arena is the module's own linear memory, so
// a stripe is never copied in and out of it (wasm-kernel.ts); without it, a plain buffer coded by
// the TypeScript kernel.

import { type GfKernel, referenceKernel } from "./kernel.js";
import { loadWasmArena } from "./wasm-kernel.js";

/** Where a coding call's rows are in the arena: input j at inputAt + j * stride, output k at outputAt + k * stride. */
export interface ArenaRows {
  inputCount: number;
  outputCount: number;
  inputAt: number;
  outputAt: number;
  stride: number;
  /** Bytes of each row coded. */
  length: number;
}

export interface CodingArena {
  /** The arena's bytes. */
  readonly bytes: Uint8Array;
  /**
   * Output k = XOR over j of coefficients[k * inputCount + j] * input j, over `length` bytes.
   * Outputs must not overlap inputs.
   */
  mulMatrix(coefficients: Uint8Array, rows: ArenaRows): void;
}

/** The bounds checks every arena makes before touching memory. */
export function checkArenaArgs(size: number, maxCount: number, rows: ArenaRows): void {
  const { inputCount, outputCount, inputAt, outputAt, stride, length } = rows;
  const count = inputCount * outputCount;
  if (count > maxCount) throw new RangeError(`at most ${maxCount} coefficients, got ${count}`);
  if (length < 0 || stride < length) throw new RangeError(`bad length ${length} for stride ${stride}`);
  const fits = (at: number, n: number) => at >= 0 && (n === 0 || at + (n - 1) * stride + length <= size);
  if (!fits(inputAt, inputCount) || !fits(outputAt, outputCount))
    throw new RangeError("rows outside the arena");
}

class PlainArena implements CodingArena {
  readonly bytes: Uint8Array;
  readonly #kernel: GfKernel;

  constructor(size: number, kernel: GfKernel) {
    this.bytes = new Uint8Array(size);
    this.#kernel = kernel;
  }

  mulMatrix(coefficients: Uint8Array, rows: ArenaRows): void {
    const { inputCount, outputCount, inputAt, outputAt, stride, length } = rows;
    checkArenaArgs(this.bytes.length, inputCount * outputCount, rows);
    const slices = (at: number, n: number) =>
      Array.from({ length: n }, (_, i) => this.bytes.subarray(at + i * stride, at + i * stride + length));
    this.#kernel.mulMatrix(
      coefficients,
      slices(inputAt, inputCount),
      slices(outputAt, outputCount),
      length,
      false,
    );
  }
}

/** An arena of `size` bytes: in WebAssembly memory when the SIMD module loads, else a plain buffer. */
export function createArena(size: number, options: { kernel?: GfKernel } = {}): CodingArena {
  if (options.kernel) return new PlainArena(size, options.kernel);
  try {
    return loadWasmArena(size);
  } catch {
    return new PlainArena(size, referenceKernel);
  }
}
