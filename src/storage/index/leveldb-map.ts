// The LevelDB needle map ("-index=leveldb", "leveldbMedium", "leveldbLarge"): needle id -> (offset,
// size) kept in a LevelDB database in the .ldb directory beside the .idx, in weed's layout (see
// leveldb-format.ts), so a data directory moves between weed and us.
//
// Reads are synchronous: classic-level's getSync on the main thread. LevelDB writes are not: every
// update goes into an in-memory overlay first, which reads consult before LevelDB, and leaves it once
// the worker that owns the database (leveldb-worker.ts) reports its batch written. Updates reach
// LevelDB in order, each batch carrying the watermark and our state record.
//
// Loading opens the database through the worker and applies only the .idx entries it does not
// reflect yet: the state record says how many it does, a checksum proves they are the same entries,
// and its counters make the tail enough to know the exact counters. A database weed kept is adopted
// from weed's watermark; one that does not match the .idx is rebuilt.

import { createRequire } from "node:module";
import { resolve } from "node:path";
import type { ClassicLevel } from "classic-level";
import { type OffsetWidth, TOMBSTONE_FILE_SIZE, type Version } from "../types.js";
import type { NeedleMapFactory } from "../volume/volume-load.js";
import { levelDbWorker } from "./leveldb-client.js";
import {
  countPut,
  countRemove,
  deletedSize,
  encodeState,
  KEY_SIZE,
  LEVELDB_TUNING,
  type LevelDbKind,
  type MapState,
  noteKey,
  readOffset,
  readSize,
  readU32,
  rowChecksumStep,
  valueSize,
  watermarkFor,
  writeKey,
  writeValue,
  zeroStats,
} from "./leveldb-format.js";
import { catchUp, type LevelDbLoadReport } from "./leveldb-load.js";
import { WriteOverlay } from "./leveldb-overlay.js";
import type { GetReply, OpenReply, ScanReply } from "./leveldb-protocol.js";
import type { NeedleMapStats } from "./needle-map.js";
import type { NeedleMapper, NeedleValue } from "./needle-mapper.js";

// classic-level (a native addon, 20-35 ms to load) is required when the first LevelDB map opens a
// reader, not at start-up: most servers use the memory needle map.
const requireLazily = createRequire(import.meta.url);
let classicLevel: typeof ClassicLevel | undefined;
function levelConstructor(): typeof ClassicLevel {
  classicLevel ??= (requireLazily("classic-level") as typeof import("classic-level")).ClassicLevel;
  return classicLevel;
}

export type { LevelDbKind } from "./leveldb-format.js";
export type { LevelDbLoadReport } from "./leveldb-load.js";

export interface LevelDbMapOptions {
  /** The .ldb directory. */
  directory: string;
  /** The whole .idx. */
  image: Buffer;
  width: OffsetWidth;
  version: Version;
  kind: LevelDbKind;
  /** Close the database after this long without use, reopening on the next (weed's -index.leveldbTimeout). */
  idleTimeoutMs?: number;
}

/** Updates sent to the worker in one message at most. */
const FLUSH_OPS = 4096;
let nextId = 1;

export class LevelDbNeedleMap implements NeedleMapper {
  readonly stats: NeedleMapStats = zeroStats();
  /** Live and deleted entries held. */
  private entries = 0;
  loadReport: LevelDbLoadReport = { mode: "current", replayed: 0, reason: "" };
  readonly location: string;
  readonly width: OffsetWidth;
  readonly version: Version;
  private readonly id = nextId++;
  private readonly kind: LevelDbKind;
  private readonly worker = levelDbWorker();
  /** [last batch written, 1 once a batch failed], written by the worker. */
  private readonly ack = new Int32Array(new SharedArrayBuffer(8));
  private rows = 0;
  private checksum = 0;
  private readonly overlay = new WriteOverlay();
  private lastAck = 0;
  /** The batch being assembled. */
  private seq = 1;
  private out: Buffer;
  private outCount = 0;
  private dirty = false;
  private flushQueued = false;
  private reader: ClassicLevel<Buffer, Buffer> | undefined;
  private readerClosing: Promise<void> = Promise.resolve();
  private status: "open" | "idle" | "closed" = "closed";
  private lastUse = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly key = Buffer.allocUnsafe(KEY_SIZE);
  private readonly rowScratch = Buffer.allocUnsafe(17);
  private readonly found: NeedleValue = { offset: 0, size: 0 };
  /** What the worker found when it last opened the database (and the path it opened). */
  private lastOpen: OpenReply = { location: "" };

  private constructor(options: LevelDbMapOptions) {
    this.location = resolve(options.directory);
    this.width = options.width;
    this.version = options.version;
    this.kind = options.kind;
    this.out = Buffer.allocUnsafe(FLUSH_OPS * (KEY_SIZE + valueSize(this.width)));
  }

  /** Opens (creating if need be) the database and brings it up to the .idx. */
  static load(options: LevelDbMapOptions): LevelDbNeedleMap {
    const map = new LevelDbNeedleMap(options);
    map.openDatabase();
    try {
      const { report, state } = catchUp({
        worker: map.worker,
        id: map.id,
        width: map.width,
        version: map.version,
        image: options.image,
        opened: map.lastOpen,
      });
      map.adoptState(state);
      map.loadReport = report;
    } catch (err) {
      map.close();
      throw err;
    }
    map.openReader();
    const idle = options.idleTimeoutMs ?? 0;
    if (idle > 0) {
      map.idleTimer = setInterval(() => map.unloadIfIdle(idle), Math.min(idle, 3_600_000));
      map.idleTimer.unref();
    }
    return map;
  }

  get size(): number {
    return this.entries;
  }

  /** The path the database is open under (the directory, unless it was replaced while closing). */
  get openedAt(): string {
    return this.lastOpen.location;
  }

  /** .idx entries the map reflects. */
  get indexRows(): number {
    return this.rows;
  }

  /** True once LevelDB refused a write: the map still answers from memory, the next load replays. */
  get writeFailed(): boolean {
    return Atomics.load(this.ack, 1) === 1;
  }

  get(hi: number, lo: number, out: NeedleValue): boolean {
    this.use();
    const pending = this.overlay.get(hi, lo);
    if (pending) {
      out.offset = pending.offset;
      out.size = pending.size;
      return true;
    }
    const value = this.stored(hi, lo);
    if (value?.length !== valueSize(this.width)) return false;
    out.offset = readOffset(value, 0, this.width);
    out.size = readSize(value, this.width);
    return true;
  }

  put(hi: number, lo: number, offset: number, size: number): void {
    const found = this.found;
    const had = this.get(hi, lo, found);
    if (countPut(this.stats, hi, lo, offset, size, had ? found.size : undefined, this.version))
      this.entries++;
    this.record(hi, lo, offset, size);
    this.advance(hi, lo, offset, size);
  }

  remove(hi: number, lo: number): number {
    const found = this.found;
    const had = this.get(hi, lo, found);
    // Counted as the entry's .idx record counts at load, so a restart computes the same.
    noteKey(this.stats, hi, lo);
    const deleted = countRemove(this.stats, had ? found.size : undefined);
    if (had && found.size >= 0) this.record(hi, lo, found.offset, deletedSize(found.size));
    this.advance(hi, lo, 0, TOMBSTONE_FILE_SIZE);
    return deleted;
  }

  forEach(visit: (keyHi: number, keyLo: number, offset: number, size: number) => void): void {
    this.use();
    const scan = this.worker.call<ScanReply>({ op: "scan", id: this.id });
    const pending = this.overlay.sorted();
    const vs = valueSize(this.width);
    let j = 0;
    for (let i = 0; i < scan.count; i++) {
      const hi = readU32(scan.keys, i * KEY_SIZE);
      const lo = readU32(scan.keys, i * KEY_SIZE + 4);
      for (; j < pending.length; j++) {
        const p = pending[j]!;
        if (p.hi > hi || (p.hi === hi && p.lo >= lo)) break;
        visit(p.hi, p.lo, p.offset, p.size);
      }
      const p = pending[j];
      if (p && p.hi === hi && p.lo === lo) {
        visit(hi, lo, p.offset, p.size);
        j++;
      } else {
        visit(
          hi,
          lo,
          readOffset(scan.values, i * vs, this.width),
          readSize(scan.values, i * vs + this.width),
        );
      }
    }
    for (; j < pending.length; j++) {
      const p = pending[j]!;
      visit(p.hi, p.lo, p.offset, p.size);
    }
  }

  /** Writes what is pending and closes the worker's handle; the main thread's closes in the background. */
  close(): void {
    if (this.status === "closed") return;
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.release();
    this.status = "closed";
  }

  /** close(), then waits until LevelDB has let go of the database (before removing it, say). */
  async closeAsync(): Promise<void> {
    this.close();
    await this.readerClosing;
    this.worker.call({ op: "settle" });
  }

  private use(): void {
    if (this.status !== "open") {
      if (this.status === "closed") throw new Error(`needle map ${this.location} is closed`);
      this.openDatabase();
      this.openReader();
    }
    this.lastUse = Date.now();
    const acked = Atomics.load(this.ack, 0);
    if (acked !== this.lastAck) {
      this.lastAck = acked;
      this.overlay.prune(acked);
    }
  }

  private stored(hi: number, lo: number): Uint8Array | undefined {
    const reader = this.reader;
    if (reader?.status === "open") {
      writeKey(this.key, 0, hi >>> 0, lo >>> 0);
      return reader.getSync(this.key);
    }
    // The main thread's handle is still opening: ask the worker's.
    return this.worker.call<GetReply>({ op: "get", id: this.id, hi, lo }).value;
  }

  /** Puts an update in the overlay and the next batch. */
  private record(hi: number, lo: number, offset: number, size: number): void {
    hi >>>= 0;
    lo >>>= 0;
    this.overlay.set(hi, lo, offset, size, this.seq);
    const at = this.outCount * (KEY_SIZE + valueSize(this.width));
    writeKey(this.out, at, hi, lo);
    writeValue(this.out, at + KEY_SIZE, this.width, offset, size);
    this.outCount++;
  }

  /** Accounts one more .idx entry, and sends the batch when full or once this turn's work is done. */
  private advance(hi: number, lo: number, offset: number, size: number): void {
    this.rows++;
    this.checksum = rowChecksumStep(this.rowScratch, this.width, hi, lo, offset, size, this.checksum);
    this.dirty = true;
    if (this.outCount >= FLUSH_OPS) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    if (!this.dirty || this.status === "closed") return;
    const ops = new Uint8Array(this.out.subarray(0, this.outCount * (KEY_SIZE + valueSize(this.width))));
    const watermark = watermarkFor(this.rows) ?? -1;
    const state = encodeState(this.snapshot(watermark));
    this.worker.send(
      { op: "write", id: this.id, seq: this.seq, ops, count: this.outCount, state, watermark },
      [ops.buffer],
    );
    this.seq = (this.seq + 1) | 0;
    this.outCount = 0;
    this.dirty = false;
  }

  private snapshot(watermark: number): MapState {
    return {
      ...this.stats,
      entries: this.entries,
      width: this.width,
      rows: this.rows,
      checksum: this.checksum,
      watermark,
    };
  }

  private openDatabase(): OpenReply {
    const reply = this.worker.call<OpenReply>({
      op: "open",
      id: this.id,
      location: this.location,
      tuning: LEVELDB_TUNING[this.kind],
      width: this.width,
      ack: this.ack,
    });
    this.status = "open";
    this.lastUse = Date.now();
    this.lastOpen = reply;
    return reply;
  }

  /** A second handle on this thread for getSync; reads go through the worker until it is open. */
  private openReader(): void {
    const Level = levelConstructor();
    const reader = new Level<Buffer, Buffer>(this.lastOpen.location, {
      keyEncoding: "buffer",
      valueEncoding: "buffer",
      multithreading: true,
      createIfMissing: false,
      ...LEVELDB_TUNING[this.kind],
    });
    this.reader = reader;
    reader.open().catch(() => {
      if (this.reader === reader) this.reader = undefined;
    });
  }

  /**
   * Sends what is pending and waits until it is written; then closes this thread's handle, and
   * once that is done lets the worker close the database (it must close last, see the worker).
   */
  private release(): void {
    if (this.status !== "open") return;
    this.flush();
    this.worker.call({ op: "close", id: this.id });
    const reader = this.reader;
    const location = this.lastOpen.location;
    this.reader = undefined;
    const released = (reader ? reader.close() : Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        try {
          this.worker.send({ op: "release", location });
        } catch {
          // The worker is gone, and the database with it.
        }
      });
    // An earlier release (before an idle reopen) may still be under way.
    this.readerClosing = Promise.all([this.readerClosing, released]).then(() => undefined);
  }

  private unloadIfIdle(idleMs: number): void {
    if (this.status === "open" && Date.now() - this.lastUse >= idleMs && !this.dirty) {
      this.release();
      this.status = "idle";
    }
  }

  private adoptState(state: MapState): void {
    const { width: _w, rows, checksum, watermark: _m, entries, ...stats } = state;
    Object.assign(this.stats, stats);
    this.entries = entries;
    this.rows = rows;
    this.checksum = checksum;
  }
}

/** A NeedleMapFactory for volumes (-index=leveldb, leveldbMedium or leveldbLarge). */
export function leveldbNeedleMap(
  kind: LevelDbKind,
  options: { idleTimeoutMs?: number } = {},
): NeedleMapFactory {
  return ({ baseName, image, width, version }) =>
    LevelDbNeedleMap.load({ directory: `${baseName}.ldb`, image, width, version, kind, ...options });
}
