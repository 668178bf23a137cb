// The hot loop of Reed-Solomon coding: outputs = coefficient matrix x inputs, byte column by byte
// column, where each term is a shard multiplied by a GF(2^8) constant and XORed into an output. This
// file defines that contract and the plain TypeScript implementation, which is also the oracle the
// WebAssembly kernel is tested against.

import { mulRow } from "./galois.js";

export interface GfKernel {
  /** "reference" or "wasm-simd". */
  readonly name: string;
  /**
   * For every output r: outputs[r] = XOR over c of coefficients[r * inputs.length + c] * inputs[c],
   * over bytes [0, length). With `accumulate` the sum is XORed into what outputs[r] already holds.
   * Every input and output must have at least `length` bytes; outputs must not overlap inputs.
   */
  mulMatrix(
    coefficients: Uint8Array,
    inputs: readonly Uint8Array[],
    outputs: readonly Uint8Array[],
    length: number,
    accumulate: boolean,
  ): void;
  /** output ^= c * input over bytes [0, length): the single multiply-accumulate step. */
  mulAdd(c: number, input: Uint8Array, output: Uint8Array, length: number): void;
}

/** output = c * input, over bytes [start, end). */
export function referenceMul(
  c: number,
  input: Uint8Array,
  output: Uint8Array,
  start: number,
  end: number,
): void {
  if (c === 0) {
    output.fill(0, start, end);
  } else if (c === 1) {
    output.set(input.subarray(start, end), start);
  } else {
    const row = mulRow(c);
    for (let i = start; i < end; i++) output[i] = row[input[i]!]!;
  }
}

/** output ^= c * input, over bytes [start, end). */
export function referenceMulAdd(
  c: number,
  input: Uint8Array,
  output: Uint8Array,
  start: number,
  end: number,
): void {
  if (c === 0) return;
  if (c === 1) {
    for (let i = start; i < end; i++) output[i]! ^= input[i]!;
    return;
  }
  const row = mulRow(c);
  for (let i = start; i < end; i++) output[i]! ^= row[input[i]!]!;
}

/** Bytes per column block: each output's block stays in cache while every input is added to it. */
const REFERENCE_BLOCK = 16 * 1024;

export const referenceKernel: GfKernel = {
  name: "reference",
  mulMatrix(coefficients, inputs, outputs, length, accumulate) {
    checkMatrixArgs(coefficients, inputs, outputs, length);
    const n = inputs.length;
    for (let start = 0; start < length; start += REFERENCE_BLOCK) {
      const end = Math.min(length, start + REFERENCE_BLOCK);
      outputs.forEach((out, r) => {
        for (let c = 0; c < n; c++) {
          const k = coefficients[r * n + c]!;
          if (c === 0 && !accumulate) referenceMul(k, inputs[0]!, out, start, end);
          else referenceMulAdd(k, inputs[c]!, out, start, end);
        }
      });
    }
  },
  mulAdd(c, input, output, length) {
    checkMatrixArgs(Uint8Array.of(c), [input], [output], length);
    referenceMulAdd(c, input, output, 0, length);
  },
};

/** The argument checks every kernel makes before touching memory. */
export function checkMatrixArgs(
  coefficients: Uint8Array,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  length: number,
): void {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`bad length ${length}`);
  if (inputs.length === 0 && outputs.length > 0) throw new RangeError("no inputs");
  if (coefficients.length < inputs.length * outputs.length) {
    throw new RangeError("coefficient matrix is smaller than outputs x inputs");
  }
  for (const s of inputs) if (s.length < length) throw new RangeError("an input is shorter than length");
  for (const s of outputs) if (s.length < length) throw new RangeError("an output is shorter than length");
}
