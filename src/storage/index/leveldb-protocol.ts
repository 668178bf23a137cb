// Messages between the LevelDB needle maps (main thread) and the worker that owns their databases.
// Requests other than "write" are answered on the reply port, and the main thread waits for the
// answer (LevelDB's open, writes and iteration are asynchronous; the needle map API is not).

import type { OffsetWidth, Version } from "../types.js";
import type { LevelDbTuning } from "./leveldb-format.js";

/**
 * How loading brings the database up to the .idx: "tail" applies the entries after what the
 * database already reflects (the counters come with the state record); "rebuild" clears it and
 * applies every entry; "adopt" applies the entries after a watermark some other writer (weed) left,
 * then counts the live entries to work out the counters.
 */
export type LoadMode = "tail" | "rebuild" | "adopt";

/** Sums over every .idx entry, which with the live entries give the counters of an adopted database. */
export interface IndexTotals {
  fileCount: number;
  fileBytes: number;
  /** Entries recording a needle of positive size, and their bytes. */
  positiveCount: number;
  positiveBytes: number;
  maxKeyHi: number;
  maxKeyLo: number;
  maxNeedleEnd: number;
}

export type Request =
  | {
      op: "open";
      id: number;
      location: string;
      tuning: LevelDbTuning;
      width: OffsetWidth;
      /** [acknowledged write sequence, failed flag], shared with the map. */
      ack: Int32Array;
    }
  | {
      op: "load";
      id: number;
      mode: LoadMode;
      version: Version;
      /** Encoded MapState for the entries before `rows`. */
      base: Uint8Array;
      /** The .idx entries to apply, from base.rows on. */
      rows: Uint8Array;
      totals?: IndexTotals;
    }
  | {
      op: "write";
      id: number;
      seq: number;
      /** `count` records of key (8 bytes) and value. */
      ops: Uint8Array;
      count: number;
      state: Uint8Array;
      /** -1: no watermark. */
      watermark: number;
    }
  | { op: "get"; id: number; hi: number; lo: number }
  | { op: "scan"; id: number }
  /** The map's writes are done and it stops using the database (its reader may still be open). */
  | { op: "close"; id: number }
  /** The map's reader has closed (no answer): the database closes once nobody uses it. */
  | { op: "release"; location: string }
  /** Answers once the databases released so far are closed. */
  | { op: "settle" };

export interface OpenReply {
  /** The path the database is open under, for the reader to share it. */
  location: string;
  state?: Uint8Array;
  watermark?: Uint8Array;
}

export type LoadReply = { interfered: true } | { interfered: false; state: Uint8Array; replayed: number };

export interface GetReply {
  value?: Uint8Array;
}

export interface ScanReply {
  count: number;
  keys: Uint8Array;
  values: Uint8Array;
}

export interface ErrorReply {
  error: string;
}
