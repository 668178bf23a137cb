// The composition root: checks the data directories, starts the gRPC and HTTP listeners and the
// master heartbeat, and stops them in weed's order (deregister, wait preStopSeconds, close public,
// admin and gRPC, then the store).

import { accessSync, constants, statSync } from "node:fs";
import type { VolumeServerOptions } from "../cli/options.js";
import { PeerClients } from "../cluster/clients.js";
import { MasterHeartbeat } from "../cluster/heartbeat.js";
import {
  ecHeartbeat,
  fullHeartbeat,
  goodbyeHeartbeat,
  stateHeartbeat,
} from "../cluster/heartbeat-message.js";
import { configInt, configString, type SecurityConfig } from "../security/config.js";
import { Guard } from "../security/guard.js";
import { log } from "../util/log.js";
import { serverHeader, versionString } from "../version.js";
import type { ServerContext } from "./context.js";
import { startGrpcServer } from "./grpc/server.js";
import { type HttpListener, listenHttp } from "./http/listeners.js";
import { adminRouter, notYetImplementedStore, publicRouter } from "./http/router.js";
import { StateFile } from "./state-file.js";

export interface RunningVolumeServer {
  context: ServerContext;
  shutdown(): Promise<void>;
}

const DRAIN_MS = 10_000;

function checkFolderWritable(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new Error(`Check Data Folder(-dir) Writable ${dir} : ${(err as Error).message}`);
  }
}

export async function startVolumeServer(
  options: VolumeServerOptions,
  security: SecurityConfig,
): Promise<RunningVolumeServer> {
  for (const folder of options.folders) checkFolderWritable(folder.directory);

  const whiteList = [...options.whiteList, ...configString(security, "guard.white_list").split(",")]
    .map((w) => w.trim())
    .filter((w) => w !== "");
  const guard = new Guard(whiteList, {
    writeKey: configString(security, "jwt.signing.key"),
    writeExpiresAfterSeconds: configInt(security, "jwt.signing.expires_after_seconds", 10),
    readKey: configString(security, "jwt.signing.read.key"),
    readExpiresAfterSeconds: configInt(security, "jwt.signing.read.expires_after_seconds", 60),
  });
  const stateFile = StateFile.open(options.idxFolder || options.folders[0]!.directory);

  let heartbeat: MasterHeartbeat | undefined;
  const ctx: ServerContext = {
    options,
    security,
    serverHeader: serverHeader(),
    version: versionString(),
    state: { registered: false, currentMaster: "", stopping: false },
    peers: new PeerClients(),
    guard,
    stateFile,
    control: {
      leaveCluster: async () => {
        await heartbeat?.stop();
        ctx.state.registered = false;
      },
      announceState: () => heartbeat?.send(stateHeartbeat(options, stateFile.state)),
    },
  };

  const grpc = await startGrpcServer(ctx);
  log.info(`gRPC server listening on ${grpc.addresses.join(", ")}`);

  const store = notYetImplementedStore();
  const listenOptions = {
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    alsoLocalhost: options.listenOnLocalhost,
  };
  let publicHttp: HttpListener | undefined;
  if (options.publicPort !== options.port) {
    publicHttp = await listenHttp(
      publicRouter(ctx, store),
      options.bindIp,
      options.publicPort,
      listenOptions,
    );
    log.info(`start volume server ${ctx.version} public at ${publicHttp.addresses.join(", ")}`);
  }
  const adminHttp = await listenHttp(adminRouter(ctx, store), options.bindIp, options.port, listenOptions);
  log.info(`start volume server ${ctx.version} at ${adminHttp.addresses.join(", ")}`);

  heartbeat = new MasterHeartbeat(options.masters, {
    fullHeartbeat: () => fullHeartbeat(options, [], stateFile.state),
    ecHeartbeat: () => ecHeartbeat(),
    goodbyeHeartbeat: () => goodbyeHeartbeat(options),
    onResponse: () => undefined,
    onRegistered: (master) => {
      ctx.state.registered = true;
      ctx.state.currentMaster = master;
    },
    onDisconnected: (master) => {
      if (ctx.state.currentMaster === master) ctx.state.currentMaster = "";
    },
  });
  heartbeat.start();

  return {
    context: ctx,
    async shutdown() {
      ctx.state.stopping = true;
      await heartbeat?.stop();
      if (options.preStopSeconds > 0) {
        log.info(`stop send heartbeat and wait ${options.preStopSeconds} seconds until shutdown ...`);
        await new Promise((r) => setTimeout(r, options.preStopSeconds * 1000));
      }
      await publicHttp?.close(DRAIN_MS);
      await adminHttp.close(DRAIN_MS);
      await grpc.close(DRAIN_MS);
      ctx.peers.close();
      log.info("shut down successfully");
    },
  };
}
