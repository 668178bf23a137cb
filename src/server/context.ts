// What every adapter (HTTP, gRPC, heartbeat) shares: the options, the security configuration and
// the server's life-cycle state. Adapters read it; only the volume server and heartbeat change it.

import type { PeerClients } from "../cluster/clients.js";
import type { VolumeLookup } from "../cluster/volume-lookup.js";
import type { VolumeServerOptions } from "../config/volume-server-options.js";
import type { SecurityConfig } from "../security/config.js";
import type { Guard } from "../security/guard.js";
import type { Store } from "../storage/store/store.js";
import type { InflightLimiter } from "./http/inflight.js";
import type { StateFile } from "./state-file.js";

export interface ServerState {
  /** A master has accepted our heartbeat and we have not left (/healthz is 503 otherwise). */
  registered: boolean;
  /** The master the heartbeat stream is connected to, "" when none. */
  currentMaster: string;
  /** Shutdown has begun: health checks fail and heartbeats stop. */
  stopping: boolean;
}

export interface ServerContext {
  options: VolumeServerOptions;
  security: SecurityConfig;
  /** "SeaweedFS Volume 30GB 4.53": changes when the master's offset width becomes known. */
  serverHeader: string;
  version: string;
  state: ServerState;
  /** gRPC clients to masters and other volume servers. */
  peers: PeerClients;
  lookup: VolumeLookup;
  guard: Guard;
  /** Maintenance mode and its version, persisted in state.pb. */
  stateFile: StateFile;
  store: Store;
  uploads: InflightLimiter;
  downloads: InflightLimiter;
  /** Hooks into the running server that RPCs may pull. */
  control: ServerControl;
}

export interface ServerControl {
  /** Stops heartbeating: the master drops this server (VolumeServerLeave). */
  leaveCluster(): Promise<void>;
  /** Sends the current state flags to the master at once. */
  announceState(): void;
}
