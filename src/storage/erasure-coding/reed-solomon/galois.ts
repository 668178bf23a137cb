// Arithmetic in GF(2^8), the field the SeaweedFS erasure code works in. Elements are bytes; addition
// is XOR; multiplication is polynomial multiplication modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11d), whose
// root x (the byte 2) generates every non-zero element. This is the field klauspost/reedsolomon
// uses, so products computed here match the ones behind Go's shards.

/** The reducing polynomial, bit i standing for x^i. */
export const FIELD_POLYNOMIAL = 0x11d;

/** EXP[i] = 2^i for i in [0, 510): twice the period, so EXP[LOG[a] + LOG[b]] needs no modulo. */
export const EXP = new Uint8Array(510);
/** LOG[a] = i with 2^i = a, for a != 0 (LOG[0] is unused and left 0). */
export const LOG = new Uint8Array(256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    EXP[i + 255] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= FIELD_POLYNOMIAL;
  }
}

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function gfInverse(a: number): number {
  if (a === 0) throw new RangeError("0 has no inverse in GF(2^8)");
  return EXP[255 - LOG[a]!]!;
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError("division by 0 in GF(2^8)");
  if (a === 0) return 0;
  return EXP[LOG[a]! + 255 - LOG[b]!]!;
}

/** a^n for n >= 0, with a^0 = 1 for every a (0^0 included, as the Vandermonde matrix needs). */
export function gfPow(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a]! * n) % 255]!;
}

/** Row c (256 bytes from c * 256) holds c * x for every byte x: one lookup per multiplied byte. */
export const MUL_TABLE = new Uint8Array(256 * 256);
for (let c = 1; c < 256; c++) {
  for (let x = 1; x < 256; x++) MUL_TABLE[c * 256 + x] = EXP[LOG[c]! + LOG[x]!]!;
}

/** The 256 bytes of c's multiplication row (a view, not a copy). */
export function mulRow(c: number): Uint8Array {
  return MUL_TABLE.subarray(c * 256, c * 256 + 256);
}

/**
 * Split-nibble tables for SIMD kernels, 32 bytes per constant c from c * 32: bytes 0..15 hold
 * c * n for the low nibble n, bytes 16..31 hold c * (n << 4) for the high nibble. Since the product
 * distributes over XOR, c * x = low[x & 15] ^ high[x >> 4].
 */
export const NIBBLE_TABLES = new Uint8Array(256 * 32);
for (let c = 0; c < 256; c++) {
  for (let n = 0; n < 16; n++) {
    NIBBLE_TABLES[c * 32 + n] = gfMul(c, n);
    NIBBLE_TABLES[c * 32 + 16 + n] = gfMul(c, n << 4);
  }
}
