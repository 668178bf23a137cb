// Messages between the primary and its reader processes (over the fork IPC channel).

import type { VolumeDescriptor } from "./reader-volume.js";

/** What a reader needs to serve reads as the primary would. */
export interface ReaderSetup {
  /** Unix sockets of the primary's admin and public handlers, for requests a reader passes on. */
  adminSocket: string;
  publicSocket: string;
  serverHeader: string;
  idleTimeoutSeconds: number;
  readBufferSizeMB: number;
  /** A read key is set: reads are checked by the primary. */
  readKeySet: boolean;
  /** A download limit is set: reads are counted (and served) by the primary. */
  downloadLimited: boolean;
}

export type PrimaryMessage =
  | { type: "setup"; setup: ReaderSetup }
  /** The listening server that follows as the handle: "admin" or "public". */
  | { type: "listen"; port: "admin" | "public" }
  | { type: "volumes"; volumes: VolumeDescriptor[]; serverHeader: string; seq: number }
  | { type: "stop" };

export type ReaderMessage = { type: "ready" } | { type: "applied"; seq: number };
