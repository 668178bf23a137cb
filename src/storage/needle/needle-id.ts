// Needle ids are unsigned 64-bit. The hot paths carry them as two 32-bit halves (numbers, no
// allocation); bigint is used only at the edges (gRPC messages, display).

export interface NeedleKey {
  hi: number;
  lo: number;
}

export function keyToBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function keyFromBigInt(id: bigint): NeedleKey {
  const v = BigInt.asUintN(64, id);
  return { hi: Number(v >> 32n), lo: Number(v & 0xffffffffn) };
}

/** Lower-case hex without leading zeros, as strconv.FormatUint(id, 16). */
export function keyToHex(hi: number, lo: number): string {
  return hi === 0
    ? (lo >>> 0).toString(16)
    : (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0");
}

export function compareKeys(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return aHi !== bHi ? (aHi >>> 0) - (bHi >>> 0) : (aLo >>> 0) - (bLo >>> 0);
}
