// The stripe pipeline of EC encode and rebuild (stripes.ts) and its coding arena: the WebAssembly
// arena codes like the TypeScript kernel, and the file-level encode and rebuild give the codec's
// bytes over several stripes (slots reused), a short last stripe and every choice of lost shards.
import assert from "node:assert/strict";
import { randomFillSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ShardChecksums } from "../../src/storage/erasure-coding/block-crcs.js";
import { encodeShardFiles } from "../../src/storage/erasure-coding/encoder.js";
import { shardExt } from "../../src/storage/erasure-coding/layout.js";
import { rebuildShardFiles } from "../../src/storage/erasure-coding/rebuild.js";
import { createArena } from "../../src/storage/erasure-coding/reed-solomon/arena.js";
import {
  ReedSolomon,
  referenceKernel,
  WASM_KERNEL_PATH,
} from "../../src/storage/erasure-coding/reed-solomon/index.js";
import { STRIPE_BYTES } from "../../src/storage/erasure-coding/stripes.js";

const dir = mkdtempSync(join(tmpdir(), "wv-ec-stripes-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("coding arena", () => {
  test("the WebAssembly arena equals the plain one, at odd lengths and offsets", {
    skip: !existsSync(WASM_KERNEL_PATH),
  }, () => {
    const size = 64 * 1024;
    const wasm = createArena(size);
    const plain = createArena(size, { kernel: referenceKernel });
    for (const [inputs, outputs, stride, length] of [
      [10, 4, 4096, 4096],
      [10, 4, 4096, 4001],
      [3, 2, 1000, 17],
      [6, 3, 2000, 1999],
    ] as const) {
      const coefficients = randomFillSync(new Uint8Array(inputs * outputs));
      const seed = randomFillSync(new Uint8Array(size));
      wasm.bytes.set(seed);
      plain.bytes.set(seed);
      for (const arena of [wasm, plain])
        arena.mulMatrix(coefficients, {
          inputCount: inputs,
          outputCount: outputs,
          inputAt: 16,
          outputAt: 16 + inputs * stride + 8,
          stride,
          length,
        });
      assert.ok(
        Buffer.from(wasm.bytes).equals(plain.bytes),
        `${inputs}x${outputs} stride ${stride} length ${length}`,
      );
    }
  });

  test("refuses rows outside the arena", () => {
    const arena = createArena(4096);
    assert.throws(
      () =>
        arena.mulMatrix(new Uint8Array(40), {
          inputCount: 10,
          outputCount: 4,
          inputAt: 0,
          outputAt: 2048,
          stride: 512,
          length: 512,
        }),
      RangeError,
    );
  });
});

describe("file encode and rebuild", () => {
  // 3.5 stripes per shard: several slots reused, and a .dat ending inside a block (zero padding).
  const datSize = Math.floor(3.5 * STRIPE_BYTES) * 10 - 12345;
  const base = join(dir, "1");
  const dat = randomFillSync(Buffer.allocUnsafe(datSize));
  writeFileSync(`${base}.dat`, dat);

  test("encode writes the data blocks and the codec's parity", async () => {
    const result = await encodeShardFiles({ dataBase: base, dataShards: 10, parityShards: 4 });
    const shards = Array.from({ length: 14 }, (_, i) => readFileSync(base + shardExt(i)));
    for (const s of shards) assert.equal(s.length, result.blockSize);
    for (let i = 0; i < 10; i++) {
      const block = Buffer.alloc(result.blockSize);
      const start = Math.min(datSize, i * result.blockSize);
      dat.copy(block, 0, start, Math.min(datSize, start + result.blockSize));
      assert.ok(shards[i]!.equals(block), `data shard ${i}`);
    }
    assert.ok(new ReedSolomon(10, 4).verify(shards), "parity");
  });

  for (const lost of [[0, 5, 10, 13], [10, 11, 12, 13], [0, 1, 2, 3], [7]]) {
    test(`rebuild of shards ${lost.join(", ")} gives the same bytes`, async () => {
      const paths = Array.from({ length: 14 }, (_, i) => base + shardExt(i));
      const before = lost.map((i) => readFileSync(paths[i]!));
      for (const i of lost) rmSync(paths[i]!);
      const { rebuilt } = await rebuildShardFiles({
        baseName: base,
        shardPaths: paths,
        present: paths.map((_, i) => !lost.includes(i)),
        dataShards: 10,
        parityShards: 4,
      });
      assert.deepEqual(rebuilt, lost);
      for (const [k, i] of lost.entries())
        assert.ok(readFileSync(paths[i]!).equals(before[k]!), `shard ${i}`);
    });
  }

  test("with block CRCs: a corrupt shard only read to be checked is found and regenerated", async () => {
    const paths = Array.from({ length: 14 }, (_, i) => base + shardExt(i));
    const before = paths.map((p) => readFileSync(p));
    // 1 MiB blocks: several per shard, across stripes.
    const sums = before.map((bytes) => {
      const c = new ShardChecksums(STRIPE_BYTES);
      c.write(bytes);
      return c.finish();
    });
    const checksums = { blockSize: STRIPE_BYTES, shards: sums };
    const damaged = Buffer.from(before[12]!);
    damaged[2 * STRIPE_BYTES + 5]! ^= 0x40;
    writeFileSync(paths[12]!, damaged);
    rmSync(paths[0]!);
    const request = { baseName: base, shardPaths: paths, dataShards: 10, parityShards: 4, checksums };
    const result = await rebuildShardFiles({ ...request, present: paths.map((_, i) => i !== 0) });
    assert.deepEqual(result.rebuilt, [0, 12]);
    assert.deepEqual(result.replaced, [12]);
    for (const i of [0, 12]) assert.ok(readFileSync(paths[i]!).equals(before[i]!), `shard ${i}`);
    assert.equal(existsSync(`${paths[12]}.rebuilding`), false);

    // A sidecar the rebuilt bytes do not match: nothing is left behind.
    const stale = { ...sums[0]!, packed: Uint8Array.from(sums[0]!.packed, (b, i) => (i === 4 ? b ^ 1 : b)) };
    rmSync(paths[0]!);
    await assert.rejects(
      rebuildShardFiles({
        ...request,
        checksums: { ...checksums, shards: [stale, ...sums.slice(1)] },
        present: paths.map((_, i) => i !== 0),
      }),
      /regenerated shard 0 .* does not match sidecar \(1 blocks differ\)/,
    );
    assert.equal(existsSync(paths[0]!), false);
    writeFileSync(paths[0]!, before[0]!);
  });

  test("a short last stripe, and a truncated input is refused", async () => {
    const paths = Array.from({ length: 14 }, (_, i) => join(dir, `short${shardExt(i)}`));
    const size = STRIPE_BYTES + 4097;
    const shards = Array.from({ length: 14 }, (_, i) =>
      i < 10 ? randomFillSync(Buffer.allocUnsafe(size)) : Buffer.alloc(size),
    );
    new ReedSolomon(10, 4).encode(shards.slice(0, 10), shards.slice(10));
    for (const [i, s] of shards.entries()) writeFileSync(paths[i]!, s);
    rmSync(paths[2]!);
    rmSync(paths[12]!);
    const present = paths.map((_, i) => i !== 2 && i !== 12);
    await rebuildShardFiles({
      baseName: "short",
      shardPaths: paths,
      present,
      dataShards: 10,
      parityShards: 4,
    });
    assert.ok(readFileSync(paths[2]!).equals(shards[2]!));
    assert.ok(readFileSync(paths[12]!).equals(shards[12]!));
    rmSync(paths[2]!);
    truncateSync(paths[3]!, size - 1);
    await assert.rejects(
      rebuildShardFiles({
        baseName: "short",
        shardPaths: paths,
        present: paths.map((_, i) => i !== 2),
        dataShards: 10,
        parityShards: 4,
      }),
      /size/,
    );
    assert.equal(existsSync(paths[2]!), false, "no partial output left");
  });
});
