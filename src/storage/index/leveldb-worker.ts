// The worker thread that owns the LevelDB needle maps' databases: it opens them, brings them up to
// the .idx at load, writes the maps' updates in order, and iterates them. The main thread reads them
// directly too (classic-level's getSync on a second handle to the same database); everything
// asynchronous happens here, where waiting on a promise does not stall the volume server.

import { statSync } from "node:fs";
import { join } from "node:path";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { ClassicLevel } from "classic-level";
import { indexEntrySize, type OffsetWidth } from "../types.js";
import {
  countPut,
  countRemove,
  decodeState,
  deletedSize,
  encodeState,
  encodeWatermark,
  isPutRow,
  KEY_SIZE,
  type MapState,
  mapKey,
  noteKey,
  readOffset,
  readSize,
  rowChecksum,
  STATE_KEY,
  valueSize,
  WATERMARK_KEY,
  watermarkFor,
  writeValue,
} from "./leveldb-format.js";
import type { IndexTotals, LoadReply, OpenReply, Request, ScanReply } from "./leveldb-protocol.js";

type Db = ClassicLevel<Buffer, Buffer>;
type WriteRequest = Extract<Request, { op: "write" }>;
type LoadRequest = Extract<Request, { op: "load" }>;

/**
 * The handle that opened a database. classic-level shares one LevelDB among the handles opened on a
 * path (the main thread's reader is one) but gives it the first handle's block cache, which that
 * handle frees when it closes: so this one opens first and closes last, once every map using it
 * has closed its reader ("release").
 */
interface Anchor {
  location: string;
  db: Db;
  users: number;
  /** Inode of the LOCK file it holds, to tell a directory replaced meanwhile. */
  lock: number;
}

/** One map's use of a database. */
interface Handle {
  anchor: Anchor;
  db: Db;
  width: OffsetWidth;
  ack: Int32Array;
  queue: WriteRequest[];
  /** The running drain of `queue`, if any. */
  draining: Promise<void> | undefined;
  failed: boolean;
}

/** Entries applied between two batches while loading. */
const LOAD_CHUNK = 32768;

const { signal, port } = workerData as { signal: Int32Array; port: MessagePort };
const handles = new Map<number, Handle>();
const anchors = new Map<string, Anchor>();
const closing = new Set<Promise<void>>();

function reply(message: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function handleOf(id: number): Handle {
  const h = handles.get(id);
  if (!h) throw new Error(`needle map ${id} is not open`);
  return h;
}

const setWatermark = (batch: ReturnType<Db["batch"]>, rows: number) => {
  const mark = watermarkFor(rows);
  if (mark === undefined) batch.del(WATERMARK_KEY);
  else batch.put(WATERMARK_KEY, encodeWatermark(mark));
};

function lockInode(location: string): number {
  try {
    return statSync(join(location, "LOCK")).ino;
  } catch {
    return -1;
  }
}

async function open(req: Extract<Request, { op: "open" }>): Promise<OpenReply> {
  let location = req.location;
  let anchor = anchors.get(location);
  // A database still closing from before its directory was removed and made anew (a volume deleted
  // and created again at once): open the new one under another spelling of its path, so the two
  // stay apart.
  while (anchor && lockInode(location) !== anchor.lock) {
    location = `${location}/.`;
    anchor = anchors.get(location);
  }
  if (!anchor) {
    const db: Db = new ClassicLevel<Buffer, Buffer>(location, {
      keyEncoding: "buffer",
      valueEncoding: "buffer",
      multithreading: true,
      ...req.tuning,
    });
    await db.open();
    anchor = { location, db, users: 0, lock: lockInode(location) };
    anchors.set(location, anchor);
  }
  anchor.users++;
  const { db } = anchor;
  handles.set(req.id, {
    anchor,
    db,
    width: req.width,
    ack: req.ack,
    queue: [],
    draining: undefined,
    failed: false,
  });
  return { location, state: db.getSync(STATE_KEY), watermark: db.getSync(WATERMARK_KEY) };
}

/** Applies .idx entries with the memory map's semantics, in batches that carry the state. */
async function load(req: LoadRequest): Promise<LoadReply> {
  const h = handleOf(req.id);
  const { db, width } = h;
  const base = decodeState(req.base);
  if (!base) throw new Error("bad base state");
  if (req.mode === "rebuild") await db.clear();
  const rows = Buffer.from(req.rows.buffer, req.rows.byteOffset, req.rows.byteLength);
  const es = indexEntrySize(width);
  const total = Math.floor(rows.length / es);
  const s: MapState = { ...base };
  const pending = new Map<number | string, Buffer>();
  let batch = db.batch();
  let done = 0;
  for (let i = 0; i < total; i++) {
    const at = i * es;
    const hi = rows.readUInt32BE(at);
    const lo = rows.readUInt32BE(at + 4);
    const offset = readOffset(rows, at + 8, width);
    const size = readSize(rows, at + 8 + width);
    const k = mapKey(hi, lo);
    const key = rows.subarray(at, at + KEY_SIZE);
    const stored = pending.get(k) ?? db.getSync(key);
    const found = stored?.length === valueSize(width);
    const oldOffset = found ? readOffset(stored, 0, width) : 0;
    const oldSize = found ? readSize(stored, width) : undefined;
    let value: Buffer | undefined;
    if (isPutRow(offset, size)) {
      // A put already in a database whose state says it is not: someone else applied the tail.
      if (req.mode === "tail" && oldOffset === offset && oldSize === size) {
        batch.close().catch(() => undefined);
        return { interfered: true };
      }
      if (countPut(s, hi, lo, offset, size, oldSize, req.version)) s.entries++;
      value = Buffer.allocUnsafe(valueSize(width));
      writeValue(value, 0, width, offset, size);
    } else {
      noteKey(s, hi, lo);
      countRemove(s, oldSize);
      if (oldSize !== undefined && oldSize >= 0) {
        value = Buffer.allocUnsafe(valueSize(width));
        writeValue(value, 0, width, oldOffset, deletedSize(oldSize));
      }
    }
    if (value) {
      pending.set(k, value);
      batch.put(Buffer.from(key), value);
    }
    if ((i + 1) % LOAD_CHUNK === 0 || i + 1 === total) {
      s.checksum = rowChecksum(rows, done, i + 1, width, s.checksum);
      s.rows = base.rows + i + 1;
      done = i + 1;
      if (req.mode === "adopt") batch.del(STATE_KEY);
      else batch.put(STATE_KEY, encodeState({ ...s, watermark: watermarkFor(s.rows) ?? -1 }));
      setWatermark(batch, s.rows);
      await batch.write();
      pending.clear();
      batch = db.batch();
    }
  }
  if (req.mode === "adopt") {
    const totals = req.totals;
    if (!totals) throw new Error("adopting needs the index totals");
    Object.assign(s, await adoptedCounters(h, totals));
    batch.put(STATE_KEY, encodeState({ ...s, watermark: watermarkFor(s.rows) ?? -1 }));
    setWatermark(batch, s.rows);
    await batch.write();
  } else {
    await batch.close();
  }
  return {
    interfered: false,
    state: encodeState({ ...s, watermark: watermarkFor(s.rows) ?? -1 }),
    replayed: total,
  };
}

/**
 * Counters of a database another writer kept: what the .idx adds up to, less what is still live
 * (every put of a positive size was counted deleted once, unless it is the live one).
 */
async function adoptedCounters(h: Handle, t: IndexTotals) {
  let entries = 0;
  let liveCount = 0;
  let liveBytes = 0;
  await forEachRecord(h, (_key, value) => {
    entries++;
    const size = readSize(value, h.width);
    if (size > 0) {
      liveCount++;
      liveBytes += size;
    }
  });
  return {
    entries,
    fileCount: t.fileCount,
    fileBytes: t.fileBytes,
    deletedCount: t.positiveCount - liveCount,
    deletedBytes: t.positiveBytes - liveBytes,
    maxKeyHi: t.maxKeyHi,
    maxKeyLo: t.maxKeyLo,
    maxNeedleEnd: t.maxNeedleEnd,
  };
}

/** Every needle record (8-byte key, value of the right size) in key order. */
async function forEachRecord(h: Handle, visit: (key: Buffer, value: Buffer) => void): Promise<void> {
  const it = h.db.iterator();
  const vs = valueSize(h.width);
  try {
    for (;;) {
      const entries = await it.nextv(4096);
      if (entries.length === 0) return;
      for (const [key, value] of entries)
        if (key.length === KEY_SIZE && value.length === vs) visit(key, value);
    }
  } finally {
    await it.close();
  }
}

async function scan(id: number): Promise<{ message: ScanReply; transfer: ArrayBuffer[] }> {
  const h = handleOf(id);
  const vs = valueSize(h.width);
  let keys = new Uint8Array(64 * KEY_SIZE);
  let values = new Uint8Array(64 * vs);
  let count = 0;
  await forEachRecord(h, (key, value) => {
    if ((count + 1) * KEY_SIZE > keys.length) {
      const k = new Uint8Array(keys.length * 2);
      k.set(keys);
      keys = k;
      const v = new Uint8Array(values.length * 2);
      v.set(values);
      values = v;
    }
    keys.set(key, count * KEY_SIZE);
    values.set(value, count * vs);
    count++;
  });
  return { message: { count, keys, values }, transfer: [keys.buffer, values.buffer] };
}

function enqueue(req: WriteRequest): void {
  const h = handleOf(req.id);
  h.queue.push(req);
  h.draining ??= drain(h);
}

/** Writes queued updates in order, all that queued while the previous batch was written as one. */
async function drain(h: Handle): Promise<void> {
  try {
    while (h.queue.length > 0) {
      const reqs = h.queue.splice(0);
      if (h.failed) break;
      const batch = h.db.batch();
      const vs = valueSize(h.width);
      for (const r of reqs) {
        const ops = Buffer.from(r.ops.buffer, r.ops.byteOffset, r.ops.byteLength);
        for (let i = 0, at = 0; i < r.count; i++, at += KEY_SIZE + vs)
          batch.put(ops.subarray(at, at + KEY_SIZE), ops.subarray(at + KEY_SIZE, at + KEY_SIZE + vs));
      }
      const last = reqs[reqs.length - 1]!;
      batch.put(STATE_KEY, Buffer.from(last.state));
      if (last.watermark < 0) batch.del(WATERMARK_KEY);
      else batch.put(WATERMARK_KEY, encodeWatermark(last.watermark));
      await batch.write();
      Atomics.store(h.ack, 0, last.seq);
    }
  } catch {
    // Later batches would carry a state that claims this one: stop writing. The map keeps serving
    // from memory, and the next load replays the .idx from the last state that was written.
    h.failed = true;
    Atomics.store(h.ack, 1, 1);
  } finally {
    h.draining = undefined;
  }
}

/** Ends a map's use: its writes are done once this returns. The database stays open until release. */
async function close(id: number): Promise<void> {
  const h = handles.get(id);
  if (!h) return;
  while (h.draining) await h.draining;
  handles.delete(id);
}

/** A map's reader has closed: the last one out closes the database. */
function release(location: string): void {
  const anchor = anchors.get(location);
  if (!anchor || --anchor.users > 0) return;
  anchors.delete(location);
  const done: Promise<void> = anchor.db.close().catch(() => undefined);
  closing.add(done);
  void done.then(() => closing.delete(done));
}

async function serve(req: Request): Promise<void> {
  switch (req.op) {
    case "write":
      enqueue(req);
      return;
    case "open":
      reply(await open(req));
      return;
    case "load":
      reply(await load(req));
      return;
    case "get": {
      const key = Buffer.allocUnsafe(KEY_SIZE);
      key.writeUInt32BE(req.hi >>> 0, 0);
      key.writeUInt32BE(req.lo >>> 0, 4);
      reply({ value: handleOf(req.id).db.getSync(key) });
      return;
    }
    case "scan": {
      const { message, transfer } = await scan(req.id);
      reply(message, transfer);
      return;
    }
    case "close":
      await close(req.id);
      reply({});
      return;
    case "release":
      release(req.location);
      return;
    case "settle":
      await Promise.all(closing);
      reply({});
      return;
  }
}

Atomics.store(signal, 1, 1);
parentPort?.on("message", (req: Request) => {
  serve(req).catch((err: unknown) => {
    if (req.op !== "write" && req.op !== "release")
      reply({ error: err instanceof Error ? err.message : String(err) });
  });
});
