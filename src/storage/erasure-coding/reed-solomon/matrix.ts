// Small dense matrices over GF(2^8), stored as one Uint8Array per row, and the encoding matrix that
// klauspost/reedsolomon builds by default (and so SeaweedFS): the total x data Vandermonde matrix
// V[r][c] = r^c, multiplied on the right by the inverse of its top data x data square. The top square
// of the result is the identity (data shards are stored as they are) and, because right-multiplying by
// an invertible matrix keeps every square subset of rows invertible, any `data` surviving shards are
// enough to decode. The inverse of a matrix is unique, so how we invert does not change the bytes.

import { gfInverse, gfMul, gfPow } from "./galois.js";

export type GfMatrix = Uint8Array[];

export function zeroMatrix(rows: number, cols: number): GfMatrix {
  return Array.from({ length: rows }, () => new Uint8Array(cols));
}

export function identityMatrix(size: number): GfMatrix {
  const m = zeroMatrix(size, size);
  for (let i = 0; i < size; i++) m[i]![i] = 1;
  return m;
}

/** left (n x k) times right (k x m). */
export function multiplyMatrices(left: GfMatrix, right: GfMatrix): GfMatrix {
  const inner = right.length;
  const cols = right[0]?.length ?? 0;
  return left.map((row) => {
    if (row.length !== inner) throw new RangeError("matrix sizes do not match for multiplication");
    const out = new Uint8Array(cols);
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let i = 0; i < inner; i++) sum ^= gfMul(row[i]!, right[i]![c]!);
      out[c] = sum;
    }
    return out;
  });
}

/** The row vector `row` times `m` (row.length must equal m's row count). */
export function multiplyRow(row: Uint8Array, m: GfMatrix): Uint8Array {
  return multiplyMatrices([row], m)[0]!;
}

/**
 * The inverse of a square matrix by Gauss-Jordan elimination on a copy. Throws when the matrix is
 * singular.
 */
export function invertMatrix(m: GfMatrix): GfMatrix {
  const n = m.length;
  // Work on [m | I]; when the left half has become I, the right half is the inverse.
  const work = m.map((row, r) => {
    if (row.length !== n) throw new RangeError("only square matrices can be inverted");
    const wide = new Uint8Array(2 * n);
    wide.set(row);
    wide[n + r] = 1;
    return wide;
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && work[pivot]![col] === 0) pivot++;
    if (pivot === n) throw new Error("matrix is singular");
    if (pivot !== col) [work[col], work[pivot]] = [work[pivot]!, work[col]!];
    const pivotRow = work[col]!;
    const scale = gfInverse(pivotRow[col]!);
    for (let c = 0; c < 2 * n; c++) pivotRow[c] = gfMul(pivotRow[c]!, scale);
    for (let r = 0; r < n; r++) {
      const row = work[r]!;
      const factor = row[col]!;
      if (r === col || factor === 0) continue;
      for (let c = 0; c < 2 * n; c++) row[c]! ^= gfMul(factor, pivotRow[c]!);
    }
  }
  return work.map((row) => row.slice(n));
}

/** rows x cols with entry (r, c) = r^c, r taken as a field element. */
export function vandermonde(rows: number, cols: number): GfMatrix {
  const m = zeroMatrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[r]![c] = gfPow(r, c);
  return m;
}

/** The systematic encoding matrix (total x data) for `data` data shards and `total` shards in all. */
export function buildEncodingMatrix(data: number, total: number): GfMatrix {
  const v = vandermonde(total, data);
  const topInverse = invertMatrix(v.slice(0, data));
  return multiplyMatrices(v, topInverse);
}
