// Nanosecond wall-clock time for needle append timestamps: the wall clock read once, advanced by
// the monotonic high-resolution timer, so stamps are precise and never step backwards.

const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function nowNs(): bigint {
  return originNs + process.hrtime.bigint();
}
