// The flags byte of a v2/v3 needle body: which optional fields follow the data, and how to serve it.

/** The data is gzip-compressed (served with Content-Encoding: gzip, or unzipped for clients). */
export const FLAG_COMPRESSED = 0x01;
export const FLAG_HAS_NAME = 0x02;
export const FLAG_HAS_MIME = 0x04;
export const FLAG_HAS_LAST_MODIFIED = 0x08;
export const FLAG_HAS_TTL = 0x10;
export const FLAG_HAS_PAIRS = 0x20;
// 0x40 is unused by SeaweedFS.
/** The data is a JSON chunk manifest listing the file ids of a large file's chunks. */
export const FLAG_CHUNK_MANIFEST = 0x80;

/** Bytes the last-modified time (unix seconds) takes on disk. */
export const LAST_MODIFIED_BYTES = 5;
export const TTL_BYTES = 2;

/** A needle (or anything with its flags byte), or the flags byte itself. */
type Flagged = { flags: number } | number;

const flagsOf = (n: Flagged): number => (typeof n === "number" ? n : n.flags);

export const hasFlag = (n: Flagged, flag: number): boolean => (flagsOf(n) & flag) !== 0;
export const isCompressed = (n: Flagged): boolean => (flagsOf(n) & FLAG_COMPRESSED) !== 0;
export const isChunkManifest = (n: Flagged): boolean => (flagsOf(n) & FLAG_CHUNK_MANIFEST) !== 0;
export const hasName = (n: Flagged): boolean => (flagsOf(n) & FLAG_HAS_NAME) !== 0;
export const hasMime = (n: Flagged): boolean => (flagsOf(n) & FLAG_HAS_MIME) !== 0;
export const hasLastModified = (n: Flagged): boolean => (flagsOf(n) & FLAG_HAS_LAST_MODIFIED) !== 0;
export const hasTtlFlag = (n: Flagged): boolean => (flagsOf(n) & FLAG_HAS_TTL) !== 0;
export const hasPairs = (n: Flagged): boolean => (flagsOf(n) & FLAG_HAS_PAIRS) !== 0;
