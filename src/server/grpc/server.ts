// The gRPC listener serving volume_server_pb.VolumeServer. Each area of RPCs lives in its own file
// (as weed's volume_grpc_*.go); RPCs not built yet answer UNIMPLEMENTED with their name.

import { Server, type ServerCredentials } from "@grpc/grpc-js";
import { type VolumeServerServer, VolumeServerService } from "../../pb/volume_server.js";
import { grpcServerCredentials } from "../../security/tls.js";
import type { ServerContext } from "../context.js";
import { isLoopbackOrWildcard } from "../http/listeners.js";
import { adminService } from "./admin.js";
import { copyService } from "./copy.js";
import { ecCopyService } from "./erasure-coding-copy.js";
import { ecDecodeService } from "./erasure-coding-decode.js";
import { ecGenerateService } from "./erasure-coding-generate.js";
import { ecScrubService } from "./erasure-coding-scrub.js";
import { ecShardsService } from "./erasure-coding-shards.js";
import { needleDataService } from "./needle-data.js";
import { queryService } from "./query.js";
import { remoteFetchService } from "./remote-fetch.js";
import { scrubService } from "./scrub.js";
import { syncService } from "./sync.js";
import { tailService } from "./tail.js";
import { tierService } from "./tier.js";
import { completeService } from "./unimplemented.js";
import { vacuumService } from "./vacuum.js";
import { volumeAdminService } from "./volume-admin.js";

/** weed's limits: 1 GiB messages, keepalive pings every 60 s, clients may ping every 20 s. */
const SERVER_OPTIONS = {
  "grpc.max_receive_message_length": 1 << 30,
  "grpc.max_send_message_length": 1 << 30,
  "grpc.keepalive_time_ms": 60_000,
  "grpc.keepalive_timeout_ms": 20_000,
  "grpc.http2.min_ping_interval_without_data_ms": 20_000,
  "grpc.keepalive_permit_without_calls": 1,
};

export interface GrpcListener {
  addresses: string[];
  close(graceMs: number): Promise<void>;
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

export async function startGrpcServer(ctx: ServerContext): Promise<GrpcListener> {
  const server = new Server(SERVER_OPTIONS);
  const implementation = completeService<VolumeServerServer>(VolumeServerService, {
    ...adminService(ctx),
    ...volumeAdminService(ctx),
    ...needleDataService(ctx),
    ...vacuumService(ctx),
    ...copyService(ctx),
    ...syncService(ctx),
    ...tailService(ctx),
    ...scrubService(ctx),
    ...queryService(ctx),
    ...ecGenerateService(ctx),
    ...ecShardsService(ctx),
    ...ecCopyService(ctx),
    ...ecDecodeService(ctx),
    ...ecScrubService(ctx),
    ...remoteFetchService(ctx),
    ...tierService(ctx),
  });
  server.addService(VolumeServerService, implementation);

  const { bindIp, grpcPort, listenOnLocalhost } = ctx.options;
  // [grpc.volume] cert/key with [grpc.ca]: mutual TLS, as weed's LoadServerTLS.
  const credentials = grpcServerCredentials(ctx.security);
  const addresses = [hostPort(bindIp, grpcPort)];
  await bind(server, addresses[0]!, credentials);
  if (listenOnLocalhost && !isLoopbackOrWildcard(bindIp)) {
    const local = hostPort("localhost", grpcPort);
    await bind(server, local, credentials).then(
      () => addresses.push(local),
      () => undefined,
    );
  }
  return {
    addresses,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
