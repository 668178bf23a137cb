// The integrity check weed runs on every volume it loads (CheckVolumeDataIntegrity), with the same
// outcomes: a clean tail loads writable; needles a crash left after the last indexed one are
// re-indexed and a torn partial record at the very end is cut off (writable volumes only); any
// other disagreement between the .idx and the .dat makes the volume read-only, never unreadable.

import { fsyncSync, ftruncateSync } from "node:fs";
import { encodeIndexEntry, forEachIndexEntry, type IndexEntry, readIndexEntry } from "../index/idx.js";
import { type Needle, NeedleError, parseHeader, parseNeedle } from "../needle/needle.js";
import {
  actualSize,
  indexEntrySize,
  maxVolumeSize,
  NEEDLE_HEADER_SIZE,
  type OffsetWidth,
  type Version,
} from "../types.js";
import { fileSize, readAt, ShortReadError, writeAt } from "./files.js";

export interface CheckInput {
  datFd: number;
  idxFd: number;
  version: Version;
  width: OffsetWidth;
  /** Where the first needle starts: the super block's size. */
  start: number;
  /** The volume loads writable: torn tails may be repaired. */
  repair: boolean;
  warn: (m: string) => void;
  /** The .dat path, for messages. */
  name: string;
}

export interface CheckResult {
  lastAppendAtNs: bigint;
  /** Set when the volume must load read-only. */
  error?: string;
}

/** The tail is not what an interrupted append leaves: left alone, the check decides. */
class NotTornError extends Error {}

const entryEnd = (e: IndexEntry, version: Version) => e.offset * 8 + actualSize(Math.max(e.size, 0), version);

export function checkVolumeIntegrity(c: CheckInput): CheckResult {
  const entrySize = indexEntrySize(c.width);
  let idxSize = fileSize(c.idxFd);
  if (idxSize % entrySize !== 0) {
    return { lastAppendAtNs: 0n, error: `index file's size is ${idxSize} bytes, maybe corrupted` };
  }
  if (idxSize === 0) {
    if (!c.repair) return { lastAppendAtNs: 0n };
    // A crash after the first append leaves needles no entry names: index them from the start.
    try {
      repairTail(c, 0, undefined);
    } catch (err) {
      return { lastAppendAtNs: 0n, error: `repair unindexed .dat tail: ${(err as Error).message}` };
    }
    idxSize = fileSize(c.idxFd);
    if (idxSize === 0) return { lastAppendAtNs: 0n };
  }
  let tail = findTailEntry(c, idxSize);
  if (!tail) return { lastAppendAtNs: 0n };
  if (c.repair) {
    let reindexed = 0;
    try {
      reindexed = repairTail(c, idxSize, tail);
    } catch (err) {
      if (!(err instanceof NotTornError)) {
        return { lastAppendAtNs: 0n, error: `repair unindexed .dat tail: ${(err as Error).message}` };
      }
      c.warn(`${c.name}: unindexed .dat tail not repaired: ${err.message}`);
    }
    if (reindexed > 0) {
      tail = findTailEntry(c, fileSize(c.idxFd));
      if (!tail) return { lastAppendAtNs: 0n };
    }
  }
  return verifyTail(c, tail);
}

function entryAt(c: CheckInput, position: number): IndexEntry {
  const buf = readAt(c.idxFd, indexEntrySize(c.width), position);
  return readIndexEntry(buf, 0, c.width, { keyHi: 0, keyLo: 0, offset: 0, size: 0 });
}

/**
 * The entry of the needle physically last in the .dat. Usually the last entry (its needle ends
 * where the .dat ends); a key-sorted .idx (old `weed fix` output) needs a scan for the highest
 * offset. Undefined when no entry has an offset.
 */
function findTailEntry(c: CheckInput, idxSize: number): IndexEntry | undefined {
  const last = entryAt(c, idxSize - indexEntrySize(c.width));
  if (last.offset !== 0 && entryEnd(last, c.version) === fileSize(c.datFd)) return last;
  let best: IndexEntry | undefined;
  forEachIndexEntry(readAt(c.idxFd, idxSize, 0), c.width, (e) => {
    if (e.offset !== 0 && (!best || e.offset > best.offset)) best = { ...e };
  });
  return best;
}

/** Reads and verifies a whole record (header, body, CRC, timestamp) of the given on-disk size. */
function readWholeNeedle(c: CheckInput, at: number, size: number): Needle {
  if (size > 0 && size < 4 && c.version !== 1) {
    throw new NeedleError(`record at ${at} has size ${size}`, "corrupted");
  }
  const n = parseNeedle(readAt(c.datFd, actualSize(size, c.version), at), c.version, size);
  // The CRC covers only the data: a body whose data size reads 0 is damaged, not an empty write.
  if (size > 0 && n.data.length === 0)
    throw new NeedleError(`needle at ${at} has size ${size} but no data`, "corrupted");
  return n;
}

/**
 * Re-indexes the complete needles found after the needle of `tail` (or after the super block when
 * there is none) and cuts an incomplete last record. Version 3 only: append times prove the order.
 * Throws NotTornError when the tail is something else (then nothing is changed), other errors for
 * I/O failures. Returns how many needles were re-indexed.
 */
function repairTail(c: CheckInput, idxSize: number, tail: IndexEntry | undefined): number {
  if (c.version !== 3) return 0;
  const datSize = fileSize(c.datFd);
  // Past what 4-byte offsets address, an entry's offset no longer names its needle on its own.
  if (datSize <= c.start || datSize > maxVolumeSize(c.width)) return 0;
  let at = c.start;
  let lastAppendAtNs = 0n;
  if (tail) {
    at = entryEnd(tail, c.version);
    if (at >= datSize) return 0;
    let anchor: Needle;
    try {
      anchor = readWholeNeedle(c, tail.offset * 8, Math.max(tail.size, 0));
    } catch (err) {
      throw new NotTornError(`last indexed needle at ${tail.offset * 8}: ${(err as Error).message}`);
    }
    if (anchor.keyHi !== tail.keyHi || anchor.keyLo !== tail.keyLo) {
      throw new NotTornError(`needle at ${tail.offset * 8} is not the one its index entry names`);
    }
    lastAppendAtNs = anchor.appendAtNs;
  }
  const entries: Buffer[] = [];
  let cutAt = datSize;
  while (at < datSize) {
    if (datSize - at < NEEDLE_HEADER_SIZE) {
      cutAt = at; // a partial header
      break;
    }
    const h = parseHeader(readAt(c.datFd, NEEDLE_HEADER_SIZE, at));
    if ((h.keyHi === 0 && h.keyLo === 0) || h.size < 0) {
      throw new NotTornError(`record at ${at} has id ${h.keyHi}:${h.keyLo} size ${h.size}`);
    }
    const end = at + actualSize(h.size, c.version);
    if (end > datSize) {
      cutAt = at; // the last record runs past the end of the file
      break;
    }
    let n: Needle;
    try {
      n = readWholeNeedle(c, at, h.size);
    } catch (err) {
      if (!(err instanceof NeedleError)) throw err;
      if (end === datSize) {
        cutAt = at; // the last record is damaged: it never completed
        break;
      }
      throw new NotTornError(
        `record at ${at} is damaged and ${datSize - end} bytes follow it: ${err.message}`,
      );
    }
    if (n.appendAtNs <= lastAppendAtNs) {
      throw new NotTornError(`record at ${at} was appended at ${n.appendAtNs}, not after ${lastAppendAtNs}`);
    }
    lastAppendAtNs = n.appendAtNs;
    // A size 0 record is an empty write or a delete (the same bytes): indexed as the empty write.
    entries.push(encodeIndexEntry(c.width, h.keyHi, h.keyLo, at / 8, h.size));
    at = end;
  }
  if (entries.length > 0) {
    // The .idx rows must not become durable before the records they name.
    fsyncSync(c.datFd);
    const rows = Buffer.concat(entries);
    try {
      writeAt(c.idxFd, rows, idxSize);
    } catch (err) {
      ftruncateSync(c.idxFd, idxSize);
      throw err;
    }
    fsyncSync(c.idxFd);
  }
  if (cutAt < datSize) {
    ftruncateSync(c.datFd, cutAt);
    fsyncSync(c.datFd);
  }
  c.warn(
    `${c.name}: repaired the unindexed tail: re-indexed ${entries.length} needle(s), cut ${datSize - cutAt} bytes (${datSize} -> ${cutAt} bytes)`,
  );
  return entries.length;
}

/**
 * weed's doCheckAndFixVolumeData on the tail entry: the record must be the entry's needle and the
 * .dat must end exactly after it. For version 3 a live tail needle that ends exactly at the end of
 * the .dat is accepted on its header and append time alone (its data is not read), as in weed.
 */
function verifyTail(c: CheckInput, tail: IndexEntry): CheckResult {
  const datSize = fileSize(c.datFd);
  const at = tail.offset * 8;
  try {
    if (tail.size < 0) {
      // A delete's tombstone: size -1 in the .idx, a size 0 record in the .dat.
      const n = readWholeNeedle(c, at, 0);
      if (n.keyHi !== tail.keyHi || n.keyLo !== tail.keyLo) {
        return { lastAppendAtNs: n.appendAtNs, error: "index key does not match the needle's id" };
      }
      const end = at + actualSize(0, c.version);
      if (datSize > end)
        return {
          lastAppendAtNs: n.appendAtNs,
          error: `data file actual ${datSize} bytes expected ${end} bytes`,
        };
      return { lastAppendAtNs: n.appendAtNs };
    }
    const h = parseHeader(readAt(c.datFd, NEEDLE_HEADER_SIZE, at));
    if (h.size !== tail.size) return { lastAppendAtNs: 0n, error: "size mismatch" };
    const end = at + actualSize(tail.size, c.version);
    let appendAtNs = 0n;
    if (c.version === 3) {
      appendAtNs = readAt(c.datFd, 8, at + NEEDLE_HEADER_SIZE + tail.size + 4).readBigUInt64BE(0);
      if (datSize === end) return { lastAppendAtNs: appendAtNs };
      if (datSize > end)
        return {
          lastAppendAtNs: appendAtNs,
          error: `data file actual ${datSize} bytes expected ${end} bytes`,
        };
    }
    const n = readWholeNeedle(c, at, tail.size);
    if (n.keyHi !== tail.keyHi || n.keyLo !== tail.keyLo) {
      return { lastAppendAtNs: n.appendAtNs, error: "index key does not match the needle's id" };
    }
    return { lastAppendAtNs: n.appendAtNs };
  } catch (err) {
    if (err instanceof ShortReadError)
      return { lastAppendAtNs: 0n, error: "data file has fewer bytes than the index expects" };
    return { lastAppendAtNs: 0n, error: (err as Error).message };
  }
}

/**
 * The newest write's append time, for TTL volumes (weed's recoverLastModifiedTs): the .idx is read
 * backwards and the first entry that is neither deleted later nor a tombstone names it. A vacuumed
 * volume (compaction revision > 0) is in key order, so every live needle is a candidate; past
 * `budget` candidates it gives up (0n) rather than guess.
 */
export function lastWriteAppendAtNs(
  c: Pick<CheckInput, "datFd" | "idxFd" | "version" | "width">,
  compacted: boolean,
  budget = 1 << 16,
): bigint {
  if (c.version !== 3) return 0n;
  const entrySize = indexEntrySize(c.width);
  const idxSize = fileSize(c.idxFd);
  if (idxSize === 0 || idxSize % entrySize !== 0) return 0n;
  const image = readAt(c.idxFd, idxSize, 0);
  const datSize = fileSize(c.datFd);
  const dead = new Set<bigint>();
  const e: IndexEntry = { keyHi: 0, keyLo: 0, offset: 0, size: 0 };
  let newest = 0n;
  for (let at = idxSize - entrySize; at >= 0; at -= entrySize) {
    readIndexEntry(image, at, c.width, e);
    const key = (BigInt(e.keyHi) << 32n) | BigInt(e.keyLo);
    if (dead.has(key)) continue;
    if (e.offset === 0 || e.size < 0) {
      dead.add(key);
      continue;
    }
    const position = e.offset * 8;
    const tsAt = position + NEEDLE_HEADER_SIZE + e.size + 4;
    if (tsAt + 8 > datSize) continue;
    const h = parseHeader(readAt(c.datFd, NEEDLE_HEADER_SIZE, position));
    if (h.keyHi !== e.keyHi || h.keyLo !== e.keyLo || h.size !== e.size) continue;
    const ts = readAt(c.datFd, 8, tsAt).readBigUInt64BE(0);
    if (ts > newest) newest = ts;
    if (!compacted) return newest;
    if (--budget === 0) return 0n;
  }
  return newest;
}
