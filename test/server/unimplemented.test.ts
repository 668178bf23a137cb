// RPCs without a handler answer UNIMPLEMENTED naming the method, as a Go server embedding the
// generated Unimplemented server does; unary and streaming alike.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { credentials, Server, ServerCredentials, type ServiceError, status } from "@grpc/grpc-js";
import {
  VolumeServerClient,
  type VolumeServerServer,
  VolumeServerService,
} from "../../src/pb/volume_server.js";
import { completeService } from "../../src/server/grpc/unimplemented.js";

let server: Server;
let client: VolumeServerClient;

before(async () => {
  server = new Server();
  const onlyPing: Partial<VolumeServerServer> = {
    ping: (_call, callback) => callback(null, { startTimeNs: 1n, remoteTimeNs: 0n, stopTimeNs: 1n }),
  };
  server.addService(VolumeServerService, completeService(VolumeServerService, onlyPing));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  client = new VolumeServerClient(`127.0.0.1:${port}`, credentials.createInsecure());
});

after(() => {
  client.close();
  server.forceShutdown();
});

test("a unary RPC without a handler is UNIMPLEMENTED with its name", async () => {
  const err = await new Promise<ServiceError>((resolve) =>
    client.vacuumVolumeCheck({ volumeId: 1 }, (e) => resolve(e!)),
  );
  assert.equal(err.code, status.UNIMPLEMENTED);
  assert.equal(err.details, "method VacuumVolumeCheck not implemented");
});

test("a server-streaming RPC without a handler is UNIMPLEMENTED with its name", async () => {
  const stream = client.volumeTailSender({ volumeId: 1, sinceNs: 0n, idleTimeoutSeconds: 1 });
  const err = await new Promise<ServiceError>((resolve) => stream.on("error", resolve));
  assert.equal(err.code, status.UNIMPLEMENTED);
  assert.equal(err.details, "method VolumeTailSender not implemented");
});
