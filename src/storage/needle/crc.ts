// CRC-32C (Castagnoli) as SeaweedFS stores it: the plain checksum of the data, written big-endian.
// Older files may hold the "masked" value, which reads also accept. Native, ~15 GB/s.

import { crc32c } from "@node-rs/crc32";

export function needleCrc(data: Uint8Array, previous = 0): number {
  return crc32c(data as Buffer, previous) >>> 0;
}

/** The masked form some older SeaweedFS versions wrote: rotate right 15, add a constant. */
export function maskedCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** The ETag weed sends for a needle: its checksum as 8 hex digits. */
export function crcEtag(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, "0");
}
