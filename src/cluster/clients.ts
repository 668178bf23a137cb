// gRPC clients to other SeaweedFS servers, one channel per address and reused, as weed keeps its
// connection cache. Addresses are SeaweedFS server addresses (host:port or host:port.grpcPort).

import {
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientUnaryCall,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { SeaweedClient } from "../pb/master.js";
import { VolumeServerClient } from "../pb/volume_server.js";
import { toGrpcAddress } from "./server-address.js";

const CLIENT_OPTIONS = {
  "grpc.max_receive_message_length": 1 << 30,
  "grpc.max_send_message_length": 1 << 30,
  "grpc.keepalive_time_ms": 60_000,
  "grpc.keepalive_timeout_ms": 20_000,
};

export class PeerClients {
  private readonly masters = new Map<string, SeaweedClient>();
  private readonly volumeServers = new Map<string, VolumeServerClient>();

  constructor(private readonly credentials: ChannelCredentials = grpcCredentials.createInsecure()) {}

  master(address: string): SeaweedClient {
    return this.cached(
      this.masters,
      address,
      (target) => new SeaweedClient(target, this.credentials, CLIENT_OPTIONS),
    );
  }

  volumeServer(address: string): VolumeServerClient {
    return this.cached(
      this.volumeServers,
      address,
      (target) => new VolumeServerClient(target, this.credentials, CLIENT_OPTIONS),
    );
  }

  close(): void {
    for (const c of [...this.masters.values(), ...this.volumeServers.values()]) c.close();
    this.masters.clear();
    this.volumeServers.clear();
  }

  private cached<T extends Client>(cache: Map<string, T>, address: string, make: (target: string) => T): T {
    const target = toGrpcAddress(address);
    let client = cache.get(target);
    if (!client) {
      client = make(target);
      cache.set(target, client);
    }
    return client;
  }
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** Calls a unary RPC of a generated client (pass the method bound to its client) as a promise. */
export function unaryCall<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: Partial<CallOptions> = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), options, (err, response) => (err ? reject(err) : resolve(response)));
  });
}
