// AssemblyScript source of the WebAssembly SIMD kernel for Reed-Solomon coding over GF(2^8), built
// by scripts/build-wasm.mjs into dist/wasm/reed-solomon/gf-kernel.wasm and driven by
// src/storage/erasure-coding/reed-solomon/wasm-kernel.ts, which owns the memory layout.
//
// Multiplying a byte x by a constant c splits x into nibbles: c * x = low[x & 15] ^ high[x >> 4],
// where low and high are c's 16-entry product tables. i8x16.swizzle looks up 16 bytes at once in a
// 16-byte table, so one output vector costs two swizzles and two XORs per input. The high nibbles
// come from a 16-bit lane shift and a mask, which x64 does in two instructions (an 8-bit lane shift
// has no x64 instruction and costs more).
//
// Table layout: a "nibble table" is 32 bytes, low products then high products. The caller places the
// 256 nibble tables, one per constant, at some address, and for a coefficient matrix (outputs x
// inputs, row-major bytes) expandTables copies the needed ones into a block of outputs x inputs x 32
// bytes, so that the table for output k and input j sits at (k * inputs + j) * 32.

const NIBBLE_TABLE_BYTES: i32 = 32;

/** The first byte the caller may use: the end of this module's static data, 16-aligned. */
export function scratchStart(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** Copies the nibble table of each of the `count` coefficients at `coefficients` to `tables`. */
export function expandTables(nibbleTables: usize, coefficients: usize, count: i32, tables: usize): void {
  for (let i = 0; i < count; i++) {
    const c = <usize>load<u8>(coefficients + <usize>i);
    memory.copy(
      tables + <usize>(i * NIBBLE_TABLE_BYTES),
      nibbleTables + c * <usize>NIBBLE_TABLE_BYTES,
      NIBBLE_TABLE_BYTES,
    );
  }
}

/**
 * outputs = coefficient matrix x inputs over `length` bytes, with the tables laid out by expandTables.
 * Input j starts at inputs + j * stride and output k at outputs + k * stride. With accumulate != 0
 * the products are XORed into the outputs' current bytes. Any length works; whole 16-byte blocks go
 * through SIMD and the rest byte by byte.
 */
export function mulMatrix(
  tables: usize,
  inputCount: i32,
  outputCount: i32,
  inputs: usize,
  outputs: usize,
  stride: i32,
  length: i32,
  accumulate: i32,
): void {
  const vectorBytes = length & ~15;
  const rowTables = <usize>(inputCount * NIBBLE_TABLE_BYTES);
  let k = 0;
  // Outputs go four, then two, then one at a time: every input vector loaded and split into
  // nibbles once serves all the outputs of the group.
  while (outputCount - k >= 4) {
    four(
      tables + <usize>k * rowTables,
      inputCount,
      inputs,
      outputs + <usize>(k * stride),
      stride,
      vectorBytes,
      accumulate,
    );
    k += 4;
  }
  if (outputCount - k >= 2) {
    two(
      tables + <usize>k * rowTables,
      inputCount,
      inputs,
      outputs + <usize>(k * stride),
      stride,
      vectorBytes,
      accumulate,
    );
    k += 2;
  }
  if (outputCount - k === 1) {
    one(
      tables + <usize>k * rowTables,
      inputCount,
      inputs,
      outputs + <usize>(k * stride),
      stride,
      vectorBytes,
      accumulate,
    );
  }
  if (vectorBytes < length) {
    tail(tables, inputCount, outputCount, inputs, outputs, stride, vectorBytes, length, accumulate);
  }
}

/** The products of 16 bytes, split into `low` and `high` nibbles, with the constant whose table is at t. */
function product(t: usize, low: v128, high: v128): v128 {
  return v128.xor(i8x16.swizzle(v128.load(t), low), i8x16.swizzle(v128.load(t, 16), high));
}

function four(
  tables: usize,
  inputCount: i32,
  inputs: usize,
  outputs: usize,
  stride: i32,
  vectorBytes: i32,
  accumulate: i32,
): void {
  const s = <usize>stride;
  const rowTables = <usize>(inputCount * NIBBLE_TABLE_BYTES);
  const mask = i8x16.splat(15);
  for (let i: usize = 0; i < <usize>vectorBytes; i += 16) {
    const o = outputs + i;
    let a0 = v128.splat<i32>(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    if (accumulate) {
      a0 = v128.load(o);
      a1 = v128.load(o + s);
      a2 = v128.load(o + 2 * s);
      a3 = v128.load(o + 3 * s);
    }
    let input = inputs + i;
    let t = tables;
    for (let j = 0; j < inputCount; j++) {
      const x = v128.load(input);
      const low = v128.and(x, mask);
      const high = v128.and(i16x8.shr_u(x, 4), mask);
      a0 = v128.xor(a0, product(t, low, high));
      a1 = v128.xor(a1, product(t + rowTables, low, high));
      a2 = v128.xor(a2, product(t + 2 * rowTables, low, high));
      a3 = v128.xor(a3, product(t + 3 * rowTables, low, high));
      input += s;
      t += NIBBLE_TABLE_BYTES;
    }
    v128.store(o, a0);
    v128.store(o + s, a1);
    v128.store(o + 2 * s, a2);
    v128.store(o + 3 * s, a3);
  }
}

function two(
  tables: usize,
  inputCount: i32,
  inputs: usize,
  outputs: usize,
  stride: i32,
  vectorBytes: i32,
  accumulate: i32,
): void {
  const s = <usize>stride;
  const rowTables = <usize>(inputCount * NIBBLE_TABLE_BYTES);
  const mask = i8x16.splat(15);
  for (let i: usize = 0; i < <usize>vectorBytes; i += 16) {
    const o = outputs + i;
    let a0 = v128.splat<i32>(0);
    let a1 = a0;
    if (accumulate) {
      a0 = v128.load(o);
      a1 = v128.load(o + s);
    }
    let input = inputs + i;
    let t = tables;
    for (let j = 0; j < inputCount; j++) {
      const x = v128.load(input);
      const low = v128.and(x, mask);
      const high = v128.and(i16x8.shr_u(x, 4), mask);
      a0 = v128.xor(a0, product(t, low, high));
      a1 = v128.xor(a1, product(t + rowTables, low, high));
      input += s;
      t += NIBBLE_TABLE_BYTES;
    }
    v128.store(o, a0);
    v128.store(o + s, a1);
  }
}

function one(
  tables: usize,
  inputCount: i32,
  inputs: usize,
  output: usize,
  stride: i32,
  vectorBytes: i32,
  accumulate: i32,
): void {
  const s = <usize>stride;
  const mask = i8x16.splat(15);
  for (let i: usize = 0; i < <usize>vectorBytes; i += 16) {
    let a0 = accumulate ? v128.load(output + i) : v128.splat<i32>(0);
    let input = inputs + i;
    let t = tables;
    for (let j = 0; j < inputCount; j++) {
      const x = v128.load(input);
      a0 = v128.xor(a0, product(t, v128.and(x, mask), v128.and(i16x8.shr_u(x, 4), mask)));
      input += s;
      t += NIBBLE_TABLE_BYTES;
    }
    v128.store(output + i, a0);
  }
}

/** Bytes [from, to) of every output, one byte at a time with the same tables. */
function tail(
  tables: usize,
  inputCount: i32,
  outputCount: i32,
  inputs: usize,
  outputs: usize,
  stride: i32,
  from: i32,
  to: i32,
  accumulate: i32,
): void {
  const s = <usize>stride;
  for (let k = 0; k < outputCount; k++) {
    const output = outputs + <usize>k * s;
    const rowTables = tables + <usize>(k * inputCount * NIBBLE_TABLE_BYTES);
    for (let p = <usize>from; p < <usize>to; p++) {
      let sum: u32 = accumulate ? <u32>load<u8>(output + p) : 0;
      for (let j = 0; j < inputCount; j++) {
        const x = <usize>load<u8>(inputs + <usize>j * s + p);
        const t = rowTables + <usize>(j * NIBBLE_TABLE_BYTES);
        sum ^= <u32>load<u8>(t + (x & 15)) ^ <u32>load<u8>(t + 16 + (x >> 4));
      }
      store<u8>(output + p, <u8>sum);
    }
  }
}
