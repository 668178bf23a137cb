// A systematic Reed-Solomon codec over GF(2^8) that produces the same shards as
// github.com/klauspost/reedsolomon created with reedsolomon.New(data, parity), as SeaweedFS creates it
// for EC volumes: data shards are stored unchanged, and parity shard k is row data + k of the encoding
// matrix (see matrix.ts) times the data shards, byte column by byte column.
//
// Reconstruction decodes from the first `data` surviving shards in index order (as the Go library
// does; with consistent shards any choice gives the same bytes, with a damaged survivor this choice
// gives Go's bytes): the matching rows of the encoding matrix form a square matrix whose inverse maps
// those shards back to the data; a missing parity shard uses its encoding row times that inverse.

import type { GfKernel } from "./kernel.js";
import { buildEncodingMatrix, type GfMatrix, identityMatrix, invertMatrix, multiplyRow } from "./matrix.js";
import { defaultKernel } from "./select-kernel.js";

/** The most shards in all that GF(2^8) allows (the Go library switches to GF(2^16) beyond it). */
export const MAX_TOTAL_SHARDS = 256;

export interface ReedSolomonOptions {
  /** The byte-loop kernel; by default the WebAssembly SIMD one when built, else the TypeScript one. */
  kernel?: GfKernel;
}

/** Cached decode matrices per set of surviving rows; cleared when full (patterns rarely vary). */
const DECODE_CACHE_LIMIT = 256;

export class ReedSolomon {
  readonly dataCount: number;
  readonly parityCount: number;
  readonly totalCount: number;
  readonly kernel: GfKernel;
  readonly #matrix: GfMatrix;
  /** The parity rows of the encoding matrix, parityCount x dataCount, row-major. */
  readonly #parityCoefficients: Uint8Array;
  readonly #decodeCache = new Map<string, GfMatrix>();

  constructor(dataCount: number, parityCount: number, options: ReedSolomonOptions = {}) {
    if (!Number.isInteger(dataCount) || dataCount < 1) {
      throw new RangeError(`data shard count must be a positive integer, got ${dataCount}`);
    }
    if (!Number.isInteger(parityCount) || parityCount < 0) {
      throw new RangeError(`parity shard count must be a non-negative integer, got ${parityCount}`);
    }
    if (dataCount + parityCount > MAX_TOTAL_SHARDS) {
      throw new RangeError(`at most ${MAX_TOTAL_SHARDS} shards in all, got ${dataCount} + ${parityCount}`);
    }
    this.dataCount = dataCount;
    this.parityCount = parityCount;
    this.totalCount = dataCount + parityCount;
    this.kernel = options.kernel ?? defaultKernel();
    this.#matrix =
      parityCount > 0 ? buildEncodingMatrix(dataCount, this.totalCount) : identityMatrix(dataCount);
    this.#parityCoefficients = new Uint8Array(parityCount * dataCount);
    for (let k = 0; k < parityCount; k++) {
      this.#parityCoefficients.set(this.#matrix[dataCount + k]!, k * dataCount);
    }
  }

  /** A copy of the encoding matrix: totalCount rows of dataCount bytes, identity on top. */
  encodingMatrix(): GfMatrix {
    return this.#matrix.map((row) => row.slice());
  }

  /**
   * Computes the parity shards of `dataShards` into `parityShards`. All shards must have the same,
   * non-zero length; parity buffers are overwritten.
   */
  encode(dataShards: readonly Uint8Array[], parityShards: readonly Uint8Array[]): void {
    this.#checkCount(dataShards, this.dataCount, "data");
    this.#checkCount(parityShards, this.parityCount, "parity");
    const size = commonSize([...dataShards, ...parityShards]);
    this.kernel.mulMatrix(this.#parityCoefficients, dataShards, parityShards, size, false);
  }

  /** True when the parity shards (shards[dataCount..]) match the data shards (shards[0..dataCount)). */
  verify(shards: readonly Uint8Array[]): boolean {
    this.#checkCount(shards, this.totalCount, "");
    const size = commonSize(shards);
    const data = shards.slice(0, this.dataCount);
    const expected = Array.from({ length: this.parityCount }, () => new Uint8Array(size));
    this.kernel.mulMatrix(this.#parityCoefficients, data, expected, size, false);
    return expected.every((p, k) =>
      Buffer.from(p.buffer, p.byteOffset, size).equals(shards[this.dataCount + k]!),
    );
  }

  /**
   * Rebuilds every shard i with present[i] false, from at least dataCount shards with present[i]
   * true. A missing slot that already holds a buffer of the shard size is written in place; any other
   * missing slot gets a new buffer. Returns `shards`, now complete. Throws when too few survive.
   */
  reconstruct(shards: (Uint8Array | undefined)[], present: readonly boolean[]): Uint8Array[] {
    this.#rebuild(shards, present, this.totalCount);
    return shards as Uint8Array[];
  }

  /** Like reconstruct, but rebuilds only missing data shards; missing parity slots are left alone. */
  reconstructData(
    shards: (Uint8Array | undefined)[],
    present: readonly boolean[],
  ): (Uint8Array | undefined)[] {
    this.#rebuild(shards, present, this.dataCount);
    return shards;
  }

  /** Rebuilds the missing shards among indexes [0, upTo). */
  #rebuild(shards: (Uint8Array | undefined)[], present: readonly boolean[], upTo: number): void {
    this.#checkCount(shards, this.totalCount, "");
    if (present.length !== this.totalCount) {
      throw new RangeError(`expected ${this.totalCount} present flags, got ${present.length}`);
    }
    const survivors: number[] = [];
    for (let i = 0; i < this.totalCount; i++) {
      if (!present[i]) continue;
      if (!(shards[i] instanceof Uint8Array)) throw new TypeError(`shard ${i} is marked present but missing`);
      survivors.push(i);
    }
    const size = commonSize(survivors.map((i) => shards[i]!));
    const missing: number[] = [];
    for (let i = 0; i < upTo; i++) if (!present[i]) missing.push(i);
    if (missing.length === 0) return;
    if (survivors.length < this.dataCount) {
      throw new Error(`too few shards to reconstruct: ${survivors.length} present, ${this.dataCount} needed`);
    }

    const { inputs: chosen, coefficients } = this.#plan(survivors, missing);
    const outputs = missing.map((i) => {
      const existing = shards[i];
      const out =
        existing instanceof Uint8Array && existing.length === size ? existing : new Uint8Array(size);
      shards[i] = out;
      return out;
    });
    const inputs = chosen.map((i) => shards[i]!);
    this.kernel.mulMatrix(coefficients, inputs, outputs, size, false);
  }

  /** The parity rows of the encoding matrix, parityCount x dataCount bytes, row-major. */
  parityCoefficients(): Uint8Array {
    return this.#parityCoefficients.slice();
  }

  /**
   * How to rebuild the shards `missing` from those marked present: the shards to read (the first
   * dataCount present ones, in index order) and the coefficient matrix, missing.length x dataCount,
   * that maps them to the missing shards. Throws when too few are present.
   */
  reconstructionPlan(
    present: readonly boolean[],
    missing: readonly number[],
  ): { inputs: number[]; coefficients: Uint8Array } {
    const survivors: number[] = [];
    for (let i = 0; i < this.totalCount; i++) if (present[i]) survivors.push(i);
    if (survivors.length < this.dataCount) {
      throw new Error(`too few shards to reconstruct: ${survivors.length} present, ${this.dataCount} needed`);
    }
    return this.#plan(survivors, missing);
  }

  #plan(
    survivors: readonly number[],
    missing: readonly number[],
  ): { inputs: number[]; coefficients: Uint8Array } {
    const inputs = survivors.slice(0, this.dataCount);
    const decode = this.#decodeMatrix(inputs);
    const coefficients = new Uint8Array(missing.length * this.dataCount);
    missing.forEach((i, r) => {
      const row = i < this.dataCount ? decode[i]! : multiplyRow(this.#matrix[i]!, decode);
      coefficients.set(row, r * this.dataCount);
    });
    return { inputs, coefficients };
  }

  /** The inverse of the encoding rows `rows`: it maps those shards back to the data shards. */
  #decodeMatrix(rows: number[]): GfMatrix {
    const key = rows.join(",");
    let inverse = this.#decodeCache.get(key);
    if (inverse === undefined) {
      inverse = invertMatrix(rows.map((r) => this.#matrix[r]!));
      if (this.#decodeCache.size >= DECODE_CACHE_LIMIT) this.#decodeCache.clear();
      this.#decodeCache.set(key, inverse);
    }
    return inverse;
  }

  #checkCount(shards: readonly unknown[], want: number, what: string): void {
    if (shards.length !== want) {
      const kind = what ? `${what} ` : "";
      throw new RangeError(`expected ${want} ${kind}shards, got ${shards.length}`);
    }
  }
}

/** The one length all `shards` share; throws when they differ or are empty. */
function commonSize(shards: readonly Uint8Array[]): number {
  const size = shards[0]?.length ?? 0;
  for (const s of shards) {
    if (s.length !== size) throw new RangeError(`shard sizes differ: ${size} and ${s.length}`);
  }
  if (size === 0) throw new RangeError("shards are empty");
  return size;
}
