// The composition root: checks the data directories, loads the store, starts the gRPC and HTTP
// listeners and the master heartbeat, and stops them in weed's order (deregister, wait
// preStopSeconds, close public, admin and gRPC, then the store).

import { accessSync, constants, statSync } from "node:fs";
import { PeerClients } from "../cluster/clients.js";
import { MasterHeartbeat } from "../cluster/heartbeat.js";
import { ecShardDelta } from "../cluster/heartbeat-ec.js";
import {
  deltaHeartbeat,
  ecHeartbeat,
  fullHeartbeat,
  goodbyeHeartbeat,
  stateHeartbeat,
  volumeShortInformation,
} from "../cluster/heartbeat-message.js";
import { checkWithMaster, learnStorageBackendsAtStart } from "../cluster/master-configuration.js";
import { joinHostPort, toHttpAddress } from "../cluster/server-address.js";
import { VolumeLookup } from "../cluster/volume-lookup.js";
import type { VolumeServerOptions } from "../config/volume-server-options.js";
import { MetricsPusher, serveMetrics } from "../metrics/metrics-http.js";
import { handleProfiling } from "../metrics/profiling.js";
import { VolumeMetrics } from "../metrics/volume-metrics.js";
import { configInt, configString, type SecurityConfig } from "../security/config.js";
import { Guard } from "../security/guard.js";
import { grpcClientCredentials, httpsIdentity } from "../security/tls.js";
import { loadStorageBackends } from "../storage/backend/backends.js";
import { hasTieredVolumes } from "../storage/backend/tiered-dat.js";
import { ecStoreOf } from "../storage/erasure-coding/ec-store.js";
import { leveldbNeedleMap } from "../storage/index/leveldb-map.js";
import type { MapHeadStart } from "../storage/store/map-head-start.js";
import { Store } from "../storage/store/store.js";
import type { OffsetWidth } from "../storage/types.js";
import { log } from "../util/log.js";
import { serverHeader, versionString } from "../version.js";
import type { ServerContext } from "./context.js";
import { startGrpcServer } from "./grpc/server.js";
import { InflightLimiter } from "./http/inflight.js";
import { instrumentedStore } from "./http/instrumented-store.js";
import { type HttpListener, listenHttp } from "./http/listeners.js";
import { adminRouter, needleHandlers, publicRouter } from "./http/router.js";
import { StateFile } from "./state-file.js";
import { balanceAccepts, readerCount, startReaders } from "./workers/readers.js";

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

async function openStore(
  options: VolumeServerOptions,
  defaultWidth: OffsetWidth,
  headStart: MapHeadStart | undefined,
): Promise<Store> {
  const store = new Store({
    defaultWidth,
    // -index: the memory map unless one of the LevelDB kinds is asked for.
    needleMap:
      options.needleMapKind === "memory"
        ? undefined
        : leveldbNeedleMap(options.needleMapKind, {
            idleTimeoutMs: options.leveldbTimeoutHours * 3_600_000,
          }),
    log: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
    locations: options.folders.map((f) => ({
      directory: f.directory,
      idxDirectory: options.idxFolder || f.directory,
      maxVolumeCount: f.maxVolumeCount,
      minFreeSpace:
        f.minFreeSpace.kind === "percent"
          ? { kind: "percent", percent: f.minFreeSpace.percent }
          : { kind: "bytes", bytes: f.minFreeSpace.bytes },
      diskType: f.diskType,
      tags: f.tags,
    })),
  });
  store.startDiskSpaceChecks();
  await store.loadExistingVolumes(headStart);
  ecStoreOf(store).loadExisting((m) => log.warn(m));
  return store;
}

/**
 * With -offsetBytes=0, new volumes take the offset width of the master's build, which its version
 * string names ("30GB ..." for 4 bytes, "8000GB ..." for 5), so one binary fits either cluster.
 */
async function followMasterOffsetWidth(ctx: ServerContext, master: string): Promise<void> {
  try {
    const response = await fetch(`http://${toHttpAddress(master)}/dir/status`, {
      signal: AbortSignal.timeout(5000),
    });
    const { Version } = (await response.json()) as { Version?: string };
    const width: OffsetWidth = Version?.startsWith("8000GB") ? 5 : 4;
    if (width !== ctx.store.defaultWidth) {
      log.info(`master ${master} runs ${Version}: new volumes get ${width}-byte index offsets`);
      ctx.store.defaultWidth = width;
      ctx.version = versionString(width);
      ctx.serverHeader = serverHeader(width);
    }
  } catch (err) {
    log.warn(`could not read the version of master ${master}: ${(err as Error).message}`);
  }
}

/** `headStart`: needle maps the entry point started building before this module loaded. */
export async function startVolumeServer(
  options: VolumeServerOptions,
  security: SecurityConfig,
  headStart?: MapHeadStart,
): Promise<RunningVolumeServer> {
  for (const folder of options.folders) checkFolderWritable(folder.directory);
  if (readerCount() > 0) balanceAccepts();

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
  // [grpc.volume] is our client identity towards masters and peers, as weed's LoadClientTLS.
  const grpcCredentials = grpcClientCredentials(security);
  const peers = new PeerClients(grpcCredentials);
  if (hasTieredVolumes(options.folders.map((f) => f.directory))) {
    await learnStorageBackendsAtStart(peers, options.masters);
  }
  const store = await openStore(options, options.offsetWidth || 4, headStart);

  let heartbeat: MasterHeartbeat | undefined;
  const ctx: ServerContext = {
    options,
    security,
    serverHeader: serverHeader(store.defaultWidth),
    version: versionString(store.defaultWidth),
    state: { registered: false, currentMaster: "", stopping: false },
    peers,
    lookup: new VolumeLookup(peers, () => ctx.state.currentMaster || options.masters[0] || ""),
    guard,
    stateFile,
    store,
    uploads: new InflightLimiter(options.concurrentUploadLimitBytes, options.inflightUploadDataTimeoutMs),
    downloads: new InflightLimiter(
      options.concurrentDownloadLimitBytes,
      options.inflightDownloadDataTimeoutMs,
    ),
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

  const metrics = new VolumeMetrics({
    store,
    concurrentUploadLimitBytes: options.concurrentUploadLimitBytes,
    concurrentDownloadLimitBytes: options.concurrentDownloadLimitBytes,
    inflightUploadBytes: () => ctx.uploads.bytes,
    inflightDownloadBytes: () => ctx.downloads.bytes,
  });
  const metricsHttp =
    options.metricsPort > 0 ? await serveMetrics(metrics, options.metricsIp, options.metricsPort) : undefined;
  const pusher = new MetricsPusher(metrics, joinHostPort(options.ip, options.port));
  const storeHandlers = instrumentedStore(needleHandlers(ctx), metrics);
  const listenOptions = {
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    alsoLocalhost: options.listenOnLocalhost,
  };
  let publicHttp: HttpListener | undefined;
  const publicHandler = publicRouter(ctx, storeHandlers);
  const adminHandler = adminRouter(ctx, storeHandlers);
  if (options.publicPort !== options.port) {
    publicHttp = await listenHttp(publicHandler, options.bindIp, options.publicPort, listenOptions);
    log.info(`start volume server ${ctx.version} public at ${publicHttp.addresses.join(", ")}`);
  }
  // As weed: only the admin (cluster) port speaks HTTPS; a separate public port stays plain.
  const tls = httpsIdentity(security);
  const adminHttp = await listenHttp(
    options.profiling.pprof
      ? (req, res) => handleProfiling(req, res) || adminHandler(req, res)
      : adminHandler,
    options.bindIp,
    options.port,
    { ...listenOptions, tls },
  );
  log.info(`start volume server ${ctx.version} at ${tls ? "https://" : ""}${adminHttp.addresses.join(", ")}`);
  const readers =
    readerCount() > 0
      ? await startReaders(ctx, readerCount(), [
          { name: "admin", listener: adminHttp, handler: adminHandler },
          ...(publicHttp ? [{ name: "public" as const, listener: publicHttp, handler: publicHandler }] : []),
        ])
      : undefined;

  heartbeat = new MasterHeartbeat(
    options.masters,
    {
      fullHeartbeat: () => fullHeartbeat(options, store, stateFile.state),
      ecHeartbeat: () => ecHeartbeat(store),
      goodbyeHeartbeat: () => goodbyeHeartbeat(options),
      onResponse: (response) => {
        if (response.volumeSizeLimit !== 0n) store.volumeSizeLimit = Number(response.volumeSizeLimit);
        store.preallocate = response.preallocate;
        loadStorageBackends(response.storageBackends);
      },
      onRegistered: (master) => {
        ctx.state.currentMaster = master;
        // /healthz reports ready only once new volumes get the master's offset width: a volume
        // allocated before would keep 4-byte index entries in a 5-byte cluster.
        if (options.offsetWidth === 0) {
          void followMasterOffsetWidth(ctx, master).finally(() => {
            if (ctx.state.currentMaster === master) ctx.state.registered = true;
          });
        } else ctx.state.registered = true;
        // As weed's checkWithMaster: tier backends, and the metrics push gateway.
        void checkWithMaster(peers, master).then((c) => {
          if (c) pusher.configure(c.metricsAddress, c.metricsIntervalSeconds);
        });
      },
      onDisconnected: (master) => {
        if (ctx.state.currentMaster === master) ctx.state.currentMaster = "";
      },
    },
    grpcCredentials,
  );
  const beat = heartbeat;
  store.addListener({
    volumeAdded: (e) => beat.send(deltaHeartbeat(options, { newVolumes: [volumeShortInformation(e)] })),
    volumeDeleted: (e) => beat.send(deltaHeartbeat(options, { deletedVolumes: [volumeShortInformation(e)] })),
  });
  ecStoreOf(store).addListener({
    ecShardMounted: (e) => beat.send(deltaHeartbeat(options, { newEcShards: [ecShardDelta(e, true)] })),
    ecShardUnmounted: (e) =>
      beat.send(deltaHeartbeat(options, { deletedEcShards: [ecShardDelta(e, false)] })),
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
      // Readers accept on the same sockets: they stop first.
      await readers?.stop();
      await publicHttp?.close(DRAIN_MS);
      await adminHttp.close(DRAIN_MS);
      await grpc.close(DRAIN_MS);
      ctx.peers.close();
      pusher.stop();
      metricsHttp?.close();
      ecStoreOf(store).close();
      store.close();
      log.info("shut down successfully");
    },
  };
}
