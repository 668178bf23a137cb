// A needle's data read from the .dat after only its metadata was read (weed's meta-only reads: large
// needles, and any GET with a Range), handed out only once checked against the needle's CRC-32C:
//   - the whole data, when it fits in one read page (-readBufferSizeMB), is read and checked before
//     any byte goes out, so damage still gets a clean 500 as in weed; larger data streams in 1 MiB
//     pieces, the last one held back until the checksum of everything matches;
//   - a range of data up to 1 MiB: the data is read whole once and checked;
//   - a range of larger data: the first time, the whole needle is read and checked while the CRC of
//     each block (64 blocks of 64 KiB to 1 MiB) is recorded; then only the blocks that cover the
//     range are read, each checked against its recorded CRC before its bytes go out.
// Memory per request stays at a block, a piece or a page; recorded block CRCs are kept for the most
// recently verified needles, and concurrent first reads of one needle share one verification.

import { maskedCrc, needleCrc } from "../../storage/needle/crc.js";
import type { Needle } from "../../storage/needle/needle.js";
import { keyToHex } from "../../storage/needle/needle-id.js";
import type { Volume } from "../../storage/volume/volume.js";
import type { ContentSource } from "./needle-read-content.js";
import { giveReadBuffer, takeReadBuffer } from "./read-buffers.js";

/** weed's paged read limit: data up to this size is read whole. */
export const PAGED_READ_LIMIT = 1024 * 1024;
/** Bytes read at a time when a large needle streams whole. */
const STREAM_PIECE = 1024 * 1024;

const RANGE_CHECK_BLOCKS = 64;
const MIN_RANGE_CHECK_BLOCK = 64 * 1024;

/** 64 KiB doubled until the needle fits in 64 blocks or the block reaches 1 MiB. */
export function rangeCheckBlockSize(dataSize: number): number {
  let block = MIN_RANGE_CHECK_BLOCK;
  while (block < PAGED_READ_LIMIT && dataSize > RANGE_CHECK_BLOCKS * block) block *= 2;
  return block;
}

/** Block CRCs of recently verified needles, least recently used first (a Map keeps order). */
const verified = new Map<string, Uint32Array>();
const VERIFIED_MAX = 16 * 1024;
const verifying = new Map<string, Promise<Uint32Array>>();

// Each Volume object (each load of a volume) gets its own token: a remounted copy is checked again.
const volumeTokens = new WeakMap<Volume, number>();
let nextToken = 0;
function volumeToken(v: Volume): number {
  let t = volumeTokens.get(v);
  if (t === undefined) {
    t = ++nextToken;
    volumeTokens.set(v, t);
  }
  return t;
}

function corrupted(n: Needle, detail: string): Error {
  return new Error(`needle ${keyToHex(n.keyHi, n.keyLo)} ${detail}`);
}

function crcMatches(crc: number, stored: number): boolean {
  return crc === stored || maskedCrc(crc) === stored;
}

/** Reads exactly `length` bytes at `position` of the .dat into a buffer, pooled or fresh. */
async function readFully(volume: Volume, position: number, length: number): Promise<Buffer> {
  const buf = takeReadBuffer(length);
  try {
    let done = 0;
    while (done < length) {
      const got = await volume.readDataAsync(position + done, buf.subarray(done), length - done);
      if (got <= 0) throw new Error(`short read at ${position + done}: ${done} of ${length} bytes`);
      done += got;
    }
  } catch (err) {
    giveReadBuffer(buf);
    throw err;
  }
  return buf;
}

export class NeedleData implements ContentSource {
  private whole: Promise<Buffer> | undefined;
  /** Pooled buffers of whole reads handed out (the socket may still hold them): returned by dispose. */
  private lent: Buffer[] = [];

  constructor(
    private readonly volume: Volume,
    private readonly needle: Needle,
    /** Where the data starts in the .dat. */
    private readonly dataOffset: number,
    readonly size: number,
    /** weed's read page (-readBufferSizeMB): whole data up to this size is checked before it is sent. */
    private readonly pageSize: number,
  ) {}

  /** Pooled pieces of streamed reads, by their memory, until the socket has sent them. */
  private streaming = new Set<ArrayBufferLike>();

  /** Called once the response is closed: every buffer lent out goes back to the pool. */
  dispose(): void {
    for (const buf of this.lent) giveReadBuffer(buf);
    this.lent = [];
    // Pieces not released by then were never sent (or their sending failed): left to the GC.
    this.streaming.clear();
  }

  release(chunk: Uint8Array): void {
    if (this.streaming.delete(chunk.buffer)) giveReadBuffer(chunk as Buffer);
  }

  /** A pooled piece the response hands back through release once it is sent. */
  private async stream(position: number, length: number): Promise<Buffer> {
    const buf = await readFully(this.volume, position, length);
    this.streaming.add(buf.buffer);
    return buf;
  }

  private async lend(position: number, length: number): Promise<Buffer> {
    const buf = await readFully(this.volume, position, length);
    this.lent.push(buf);
    return buf;
  }

  chunks(start: number, length: number): AsyncIterable<Uint8Array> {
    if (start === 0 && length === this.size) {
      return this.size <= this.pageSize ? this.fromWhole(start, length) : this.streamAll();
    }
    return this.size <= PAGED_READ_LIMIT ? this.fromWhole(start, length) : this.streamRange(start, length);
  }

  private async *fromWhole(start: number, length: number): AsyncGenerator<Uint8Array> {
    this.whole ??= this.readWhole();
    const data = await this.whole;
    if (length > 0) yield data.subarray(start, start + length);
  }

  private async readWhole(): Promise<Buffer> {
    const data = await this.lend(this.dataOffset, this.size);
    if (this.size > 0 && !crcMatches(needleCrc(data), this.needle.checksum))
      throw corrupted(this.needle, "data corrupted: checksum mismatch");
    return data;
  }

  private async *streamAll(): AsyncGenerator<Uint8Array> {
    let crc = 0;
    let held: Buffer | undefined;
    for (let pos = 0; pos < this.size; pos += STREAM_PIECE) {
      // A new piece each time: the socket may still hold the previous one.
      const piece = await this.stream(this.dataOffset + pos, Math.min(STREAM_PIECE, this.size - pos));
      crc = needleCrc(piece, crc);
      if (held) yield held;
      held = piece;
    }
    // The last piece goes out only when the whole needle matched its checksum.
    if (!crcMatches(crc, this.needle.checksum))
      throw corrupted(this.needle, "data corrupted: checksum mismatch");
    if (held) yield held;
  }

  private async *streamRange(start: number, length: number): AsyncGenerator<Uint8Array> {
    const crcs = await this.blockCrcs();
    const block = rangeCheckBlockSize(this.size);
    const end = start + length;
    for (let b = Math.floor(start / block); b * block < end; b++) {
      const from = b * block;
      const length = Math.min(block, this.size - from);
      const data = await this.stream(this.dataOffset + from, length);
      if (needleCrc(data) !== crcs[b]) throw corrupted(this.needle, `checksum mismatch in block ${b}`);
      yield data.subarray(Math.max(start, from) - from, Math.min(end, from + data.length) - from);
    }
  }

  /** The CRC of each block, from a verification of the whole needle (done once, then cached). */
  private blockCrcs(): Promise<Uint32Array> {
    const n = this.needle;
    const key = `${volumeToken(this.volume)}:${this.dataOffset}:${n.appendAtNs}:${n.checksum}`;
    const hit = verified.get(key);
    if (hit) {
      verified.delete(key);
      verified.set(key, hit);
      return Promise.resolve(hit);
    }
    let pending = verifying.get(key);
    if (!pending) {
      pending = this.verifyBlocks().then(
        (crcs) => {
          verifying.delete(key);
          verified.set(key, crcs);
          if (verified.size > VERIFIED_MAX) verified.delete(verified.keys().next().value!);
          return crcs;
        },
        (err: unknown) => {
          verifying.delete(key);
          throw err;
        },
      );
      verifying.set(key, pending);
    }
    return pending;
  }

  private async verifyBlocks(): Promise<Uint32Array> {
    const block = rangeCheckBlockSize(this.size);
    const crcs = new Uint32Array(Math.ceil(this.size / block));
    let whole = 0;
    for (let b = 0; b < crcs.length; b++) {
      const data = await readFully(
        this.volume,
        this.dataOffset + b * block,
        Math.min(block, this.size - b * block),
      );
      crcs[b] = needleCrc(data);
      whole = needleCrc(data, whole);
      giveReadBuffer(data);
    }
    if (!crcMatches(whole, this.needle.checksum))
      throw corrupted(this.needle, "data corrupted: checksum mismatch");
    return crcs;
  }
}
