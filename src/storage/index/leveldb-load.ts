// Loading a LevelDB needle map: how far the database is behind the .idx, and bringing it up to it.
//
// Our state record (leveldb-format.ts) says how many .idx entries the database reflects; when its
// checksum matches those entries and the watermark is the one we wrote, only the entries after it
// are applied, starting from the recorded counters. A database without our record (weed made it),
// or one weed has written to since (the watermark moved, or a put of the tail is already there), is
// adopted: weed's watermark says where to replay from, and the counters come from sums over the
// .idx less what is still live. A database that does not match the .idx at all (another offset
// width, more entries than the .idx, other entries, a watermark past the end) is rebuilt.

import { indexEntrySize, type OffsetWidth, type Version } from "../types.js";
import type { WorkerClient } from "./leveldb-client.js";
import {
  countPut,
  decodeState,
  decodeWatermark,
  encodeState,
  isPutRow,
  type MapState,
  noteKey,
  readOffset,
  readSize,
  rowChecksum,
  zeroCounters,
  zeroStats,
} from "./leveldb-format.js";
import type { IndexTotals, LoadMode, LoadReply, OpenReply } from "./leveldb-protocol.js";

/** How loading went: "current" when the database already reflected the whole .idx. */
export interface LevelDbLoadReport {
  mode: "current" | LoadMode;
  /** .idx entries applied. */
  replayed: number;
  reason: string;
}

export interface CatchUpInput {
  worker: WorkerClient;
  id: number;
  width: OffsetWidth;
  version: Version;
  /** The whole .idx. */
  image: Buffer;
  /** What the worker read when it opened the database. */
  opened: OpenReply;
}

/** Brings the open database up to the .idx; returns the state it then reflects. */
export function catchUp(input: CatchUpInput): { report: LevelDbLoadReport; state: MapState } {
  const { width, image } = input;
  const total = Math.floor(image.length / indexEntrySize(width));
  const state = decodeState(input.opened.state);
  const watermark = decodeWatermark(input.opened.watermark);
  let mode: LoadMode = "rebuild";
  let from = 0;
  let reason: string;
  if (state) {
    if (state.width !== width) reason = `database holds ${state.width}-byte offsets`;
    else if (state.rows > total) reason = `database reflects ${state.rows} entries, the .idx has ${total}`;
    else if (rowChecksum(image, 0, state.rows, width, 0) !== state.checksum)
      reason = "the .idx is not the one the database reflects";
    else if ((watermark ?? -1) === state.watermark) {
      if (state.rows === total)
        return { report: { mode: "current", replayed: 0, reason: "up to date" }, state };
      const reply = replay(input, "tail", state, state.rows, total);
      if (!reply.interfered)
        return {
          report: { mode: "tail", replayed: reply.replayed, reason: "state record" },
          state: reply.state,
        };
      reason = "another writer applied entries after the state record";
      mode = "adopt";
      from = Math.min(watermark ?? 0, state.rows);
    } else {
      reason = "another writer moved the watermark";
      if (watermark !== undefined && watermark <= total) {
        mode = "adopt";
        from = watermark;
      }
    }
  } else if (watermark !== undefined && watermark <= total) {
    reason = "no state record: a database weed kept";
    mode = "adopt";
    from = watermark;
  } else {
    reason = watermark === undefined ? "no watermark" : `watermark ${watermark} is past the .idx (${total})`;
  }
  const base: MapState = { ...zeroCounters(), width, rows: from, checksum: 0, watermark: -1 };
  if (mode === "adopt") base.checksum = rowChecksum(image, 0, from, width, 0);
  const reply = replay(input, mode, base, from, total);
  if (reply.interfered) throw new Error(`LevelDB needle map: ${mode} found entries applied twice`);
  return { report: { mode, replayed: reply.replayed, reason }, state: reply.state };
}

function replay(input: CatchUpInput, mode: LoadMode, base: MapState, from: number, total: number) {
  const { width, version, image } = input;
  const es = indexEntrySize(width);
  const rows = new Uint8Array(image.subarray(from * es, total * es));
  const reply = input.worker.call<LoadReply>(
    {
      op: "load",
      id: input.id,
      mode,
      version,
      base: encodeState(base),
      rows,
      ...(mode === "adopt" ? { totals: indexTotals(image, total, width, version) } : {}),
    },
    [rows.buffer],
  );
  if (reply.interfered) return reply;
  const state = decodeState(reply.state);
  if (!state) throw new Error("LevelDB needle map: the worker sent a bad state");
  return { interfered: false as const, replayed: reply.replayed, state };
}

/** Sums over every entry of the .idx: what adopting a database needs besides its live entries. */
function indexTotals(image: Buffer, total: number, width: OffsetWidth, version: Version): IndexTotals {
  const es = indexEntrySize(width);
  const c = zeroStats();
  let positiveCount = 0;
  let positiveBytes = 0;
  for (let at = 0; at < total * es; at += es) {
    const hi = image.readUInt32BE(at);
    const lo = image.readUInt32BE(at + 4);
    const offset = readOffset(image, at + 8, width);
    const size = readSize(image, at + 8 + width);
    if (isPutRow(offset, size)) {
      countPut(c, hi, lo, offset, size, undefined, version);
      if (size > 0) {
        positiveCount++;
        positiveBytes += size;
      }
    } else noteKey(c, hi, lo);
  }
  return { ...c, positiveCount, positiveBytes };
}
