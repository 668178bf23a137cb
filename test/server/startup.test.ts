// The server as the SeaweedFS harness starts it, beside a real pinned weed master: it registers,
// /healthz turns 200, the master lists it, gRPC answers Ping, unbuilt RPCs say UNIMPLEMENTED with
// their name, and SIGINT stops it cleanly and deregisters it.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { credentials, type ServiceError, status } from "@grpc/grpc-js";
import { VolumeServerClient } from "../../src/pb/volume_server.js";
import {
  freePort,
  launcher,
  type Master,
  type Proc,
  scratchDir,
  startMaster,
  startProcess,
  waitFor,
} from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let volume: Proc;
let port: number;
let grpcPort: number;

before(async () => {
  scratch = scratchDir("wv-startup-");
  master = await startMaster(scratch.dir);
  port = await freePort();
  grpcPort = await freePort();
  const publicPort = await freePort();
  const data = join(scratch.dir, "volume");
  mkdirSync(data);
  // The double-dash flags of SeaweedFS's test harness.
  volume = startProcess(
    launcher,
    [
      "--port",
      String(port),
      "--port.grpc",
      String(grpcPort),
      "--port.public",
      String(publicPort),
      "--ip",
      "127.0.0.1",
      "--ip.bind",
      "127.0.0.1",
      "--dir",
      data,
      "--max",
      "16",
      "--master",
      `127.0.0.1:${master.port}.${master.grpcPort}`,
      "--volume.allowUntrustedRemoteEndpoints",
      "--readMode",
      "proxy",
      "--concurrentUploadLimitMB",
      "0",
      "--concurrentDownloadLimitMB",
      "0",
      "--preStopSeconds",
      "0",
      "--inflightUploadDataTimeout",
      "2s",
    ],
    scratch.dir,
    "volume",
  );
});

after(async () => {
  await volume?.stop("SIGKILL");
  await master?.proc.stop();
  scratch?.cleanup();
});

test("healthz turns 200 once the master accepts the heartbeat", async () => {
  await waitFor(`http://127.0.0.1:${port}/healthz`, (s) => s === 200);
  const r = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.match(r.headers.get("server") ?? "", /^SeaweedFS Volume /);
  assert.ok(r.headers.get("x-amz-request-id"));
});

test("the master's /dir/status lists the server", async () => {
  const topology = (await (await fetch(`${master.url}/dir/status`)).json()) as {
    Topology: { DataCenters: { Racks: { DataNodes: { Url: string; Max: number }[] | null }[] }[] };
  };
  const nodes = topology.Topology.DataCenters.flatMap((dc) => dc.Racks.flatMap((r) => r.DataNodes ?? []));
  assert.deepEqual(
    nodes.map((n) => [n.Url, n.Max]),
    [[`127.0.0.1:${port}`, 16]],
  );
});

test("/status reports the data directory", async () => {
  const body = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
    Version: string;
    DiskStatuses: { dir: string; all: number; free: number }[];
  };
  assert.match(body.Version, /^30GB \d+\.\d+/);
  assert.equal(body.DiskStatuses.length, 1);
  assert.ok(body.DiskStatuses[0]!.all > 0);
});

test("gRPC answers Ping", async () => {
  const client = new VolumeServerClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  try {
    const pong = await new Promise<{ startTimeNs: bigint; stopTimeNs: bigint }>((resolve, reject) =>
      client.ping({ target: "", targetType: "" }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    assert.ok(pong.startTimeNs > 0n && pong.stopTimeNs >= pong.startTimeNs);
  } finally {
    client.close();
  }
});

test("Ping reaches a master we heartbeat with and refuses other targets", async () => {
  const client = new VolumeServerClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  try {
    const pong = await new Promise<{ remoteTimeNs: bigint }>((resolve, reject) =>
      client.ping(
        { target: `127.0.0.1:${master.port}.${master.grpcPort}`, targetType: "master" },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
    assert.ok(pong.remoteTimeNs > 0n);
    const err = await new Promise<ServiceError>((resolve) =>
      client.ping({ target: "127.0.0.1:1", targetType: "filer" }, (e) => resolve(e!)),
    );
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.equal(err.details, "unknown ping target 127.0.0.1:1 of type filer");
  } finally {
    client.close();
  }
});

test("SIGINT stops the server cleanly and the master drops it", async () => {
  assert.equal(await volume.stop("SIGINT"), 0);
  await new Promise((r) => setTimeout(r, 300));
  const topology = await (await fetch(`${master.url}/dir/status`)).text();
  assert.ok(!topology.includes(`127.0.0.1:${port}`), topology);
});
