// What every adapter (HTTP, gRPC, heartbeat) shares: the options, the security configuration and
// the server's life-cycle state. Adapters read it; only the volume server and heartbeat change it.

import type { VolumeServerOptions } from "../cli/options.js";
import type { PeerClients } from "../cluster/clients.js";
import type { SecurityConfig } from "../security/config.js";

export interface ServerState {
  /** A master has accepted our heartbeat (weed's /healthz is 503 until then). */
  registered: boolean;
  /** The master the heartbeat stream is connected to, "" when none. */
  currentMaster: string;
  /** Shutdown has begun: health checks fail and heartbeats stop. */
  stopping: boolean;
}

export interface ServerContext {
  options: VolumeServerOptions;
  security: SecurityConfig;
  serverHeader: string;
  version: string;
  state: ServerState;
  /** gRPC clients to masters and other volume servers. */
  peers: PeerClients;
}
