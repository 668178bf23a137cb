// The WebAssembly SIMD kernel against the TypeScript reference kernel (the oracle): same bytes for
// random matrices and shards, odd lengths (the SIMD loop works in 16-byte blocks), lengths that cross
// the kernel's chunk boundaries, accumulate mode, constants 0 and 1, and bytes past `length` untouched.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import {
  gfMul,
  loadWasmKernel,
  referenceKernel,
  WASM_KERNEL_PATH,
} from "../../src/storage/erasure-coding/reed-solomon/index.js";
import { random } from "../support/random.js";

const built = existsSync(WASM_KERNEL_PATH);
// Reported as a skipped test (not silently absent) when the module has not been built.
if (!built) test("WASM SIMD kernel", { skip: "not built: run node scripts/build-wasm.mjs" }, () => {});

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

describe("WASM SIMD kernel", { skip: !built }, () => {
  test("loads and names itself", () => {
    assert.equal(loadWasmKernel().name, "wasm-simd");
  });

  const shapes: [number, number][] = [
    [1, 1],
    [1, 5],
    [3, 3],
    [10, 4],
    [17, 7],
    [64, 9],
    [200, 56],
  ];
  const lengths = [
    ...Array.from({ length: 41 }, (_, i) => i),
    63,
    1023,
    1024,
    1025,
    14031,
    14032,
    14033,
    65537,
    100_001,
  ];

  for (const [inputCount, outputCount] of shapes) {
    test(`${inputCount} inputs x ${outputCount} outputs equals the reference at odd lengths`, () => {
      const wasm = loadWasmKernel();
      const next = random(inputCount * 1000 + outputCount);
      const usable = inputCount * outputCount > 1000 ? lengths.filter((l) => l <= 14033) : lengths;
      for (const length of usable) {
        for (const accumulate of [false, true]) {
          const coefficients = randomBytes(next, inputCount * outputCount);
          // Make sure the special constants 0 and 1 show up.
          coefficients[0] = 0;
          if (coefficients.length > 1) coefficients[coefficients.length - 1] = 1;
          const slack = 5;
          const inputs = Array.from({ length: inputCount }, () => randomBytes(next, length + slack));
          const start = Array.from({ length: outputCount }, () => randomBytes(next, length + slack));
          const expected = start.map((s) => s.slice());
          const actual = start.map((s) => s.slice());
          const inputsBefore = inputs.map((s) => s.slice());
          referenceKernel.mulMatrix(coefficients, inputs, expected, length, accumulate);
          wasm.mulMatrix(coefficients, inputs, actual, length, accumulate);
          assert.deepEqual(inputs, inputsBefore, "inputs unchanged");
          for (let k = 0; k < outputCount; k++) {
            assert.ok(
              Buffer.from(actual[k]!).equals(expected[k]!),
              `output ${k}, length ${length}, accumulate ${accumulate}`,
            );
            assert.deepEqual(actual[k]!.subarray(length), start[k]!.subarray(length), "bytes past length");
          }
        }
      }
    });
  }

  test("mulAdd: output ^= c * input, for every constant", () => {
    const wasm = loadWasmKernel();
    const next = random(42);
    for (let c = 0; c < 256; c++) {
      const length = 1 + Math.floor(next() * 100);
      const input = randomBytes(next, length);
      const start = randomBytes(next, length);
      const out = start.slice();
      wasm.mulAdd(c, input, out, length);
      for (let i = 0; i < length; i++) assert.equal(out[i], start[i]! ^ gfMul(c, input[i]!));
      const ref = start.slice();
      referenceKernel.mulAdd(c, input, ref, length);
      assert.deepEqual(out, ref);
    }
  });

  test("subarray views at odd offsets work", () => {
    const wasm = loadWasmKernel();
    const next = random(7);
    const backing = randomBytes(next, 4000);
    const inputs = [backing.subarray(3, 1003), backing.subarray(1001, 2001)];
    const outputs = [new Uint8Array(1000), new Uint8Array(1000)];
    const expected = [new Uint8Array(1000), new Uint8Array(1000)];
    const coefficients = Uint8Array.of(2, 3, 4, 5);
    wasm.mulMatrix(coefficients, inputs, outputs, 1000, false);
    referenceKernel.mulMatrix(coefficients, inputs, expected, 1000, false);
    assert.deepEqual(outputs, expected);
  });

  test("refuses short buffers and bad lengths", () => {
    const wasm = loadWasmKernel();
    const a = new Uint8Array(10);
    assert.throws(() => wasm.mulMatrix(Uint8Array.of(1), [a], [new Uint8Array(5)], 10, false), RangeError);
    assert.throws(() => wasm.mulMatrix(Uint8Array.of(1), [a], [a.slice()], -1, false), RangeError);
    assert.throws(() => wasm.mulMatrix(new Uint8Array(0), [a], [a.slice()], 10, false), RangeError);
  });
});
