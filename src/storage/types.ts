// Sizes and layouts shared by the storage formats. All integers on disk are big-endian.

export type Version = 1 | 2 | 3;
export const CURRENT_VERSION: Version = 3;

export const NEEDLE_HEADER_SIZE = 16; // cookie 4, id 8, size 4
export const NEEDLE_CHECKSUM_SIZE = 4;
export const TIMESTAMP_SIZE = 8;
export const NEEDLE_PADDING_SIZE = 8;
export const SUPER_BLOCK_SIZE = 8;
/** The size recorded for a deleted needle in the index. */
export const TOMBSTONE_FILE_SIZE = -1;

/** Index offset widths: 4 bytes address 32 GiB of volume, 5 bytes 8 TiB. */
export type OffsetWidth = 4 | 5;
export function maxVolumeSize(width: OffsetWidth): number {
  return width === 5 ? 8 * 1024 ** 4 : 32 * 1024 ** 3;
}
export function indexEntrySize(width: OffsetWidth): number {
  return 8 + width + 4;
}

export function isSupportedVersion(v: number): v is Version {
  return v === 1 || v === 2 || v === 3;
}

/** Bytes of padding after a needle's tail: 1 to 8, never 0. */
export function paddingLength(size: number, version: Version): number {
  const tail = version === 3 ? NEEDLE_CHECKSUM_SIZE + TIMESTAMP_SIZE : NEEDLE_CHECKSUM_SIZE;
  return NEEDLE_PADDING_SIZE - ((NEEDLE_HEADER_SIZE + size + tail) % NEEDLE_PADDING_SIZE);
}

/** Bytes after the header: body, checksum, timestamp (v3) and padding. */
export function needleBodyLength(size: number, version: Version): number {
  const tail = version === 3 ? NEEDLE_CHECKSUM_SIZE + TIMESTAMP_SIZE : NEEDLE_CHECKSUM_SIZE;
  return size + tail + paddingLength(size, version);
}

/** Bytes a needle of this size occupies in the .dat file. */
export function actualSize(size: number, version: Version): number {
  return NEEDLE_HEADER_SIZE + needleBodyLength(size, version);
}

export function isDeletedSize(size: number): boolean {
  return size < 0;
}

export function isValidSize(size: number): boolean {
  return size > 0;
}

/** The size a deleted entry had before deletion, 0 for a tombstone. */
export function rawSize(size: number): number {
  return size === TOMBSTONE_FILE_SIZE ? 0 : Math.abs(size);
}
