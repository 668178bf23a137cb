// FetchAndWriteNeedle against a real S3 endpoint (the pinned `weed mini`): a range of an object is
// cached as a needle that reads back byte for byte over HTTP; a missing object is NOT_FOUND; the
// untrusted-endpoint guard refuses a loopback endpoint unless told otherwise.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { status } from "@grpc/grpc-js";
import type { RemoteConf } from "../../src/pb/remote.js";
import { RemoteConf as RemoteConfMessage, RemoteStorageLocation } from "../../src/pb/remote.js";
import type { FetchAndWriteNeedleRequest } from "../../src/pb/volume_server.js";
import { allocateVolume, volumeCall } from "../support/grpc.js";
import {
  freePort,
  type Master,
  type Proc,
  scratchDir,
  startMaster,
  startProcess,
  startVolume,
  type VolumeProc,
  waitFor,
  weedBinary,
} from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let mini: Proc;
let s3Endpoint: string;
let trusting: VolumeProc;
let guarded: VolumeProc;

const BUCKET = "fetch-test";
const OBJECT = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** A port whose gRPC companion (port + 10000, as weed mini uses) is free too. */
async function miniPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 55_000 && (await portFree(port + 10_000))) return port;
  }
}

before(async () => {
  scratch = scratchDir("wv-remote-");
  const [m, v, f, s3, admin] = [
    await miniPort(),
    await miniPort(),
    await miniPort(),
    await miniPort(),
    await miniPort(),
  ];
  const miniDir = join(scratch.dir, "mini");
  mini = startProcess(
    weedBinary(),
    [
      "mini",
      `-dir=${miniDir}`,
      `-master.port=${m}`,
      `-volume.port=${v}`,
      `-filer.port=${f}`,
      `-s3.port=${s3}`,
      "-webdav=false",
      "-s3.port.lance=0",
      "-s3.port.iceberg=0",
      `-admin.port=${admin}`,
      `-admin.port.grpc=${admin + 10_000}`,
      "-admin.port.legacy=0",
    ],
    scratch.dir,
    "weed-mini",
  );
  s3Endpoint = `http://127.0.0.1:${s3}`;
  await waitFor(s3Endpoint, (code) => code > 0, 60_000);
  const s3Client = new S3Client({
    region: "us-east-1",
    endpoint: s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "admin", secretAccessKey: "admin" },
  });
  await s3Client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "blob.bin", Body: OBJECT }));
  s3Client.destroy();

  master = await startMaster(scratch.dir);
  mkdirSync(join(scratch.dir, "trusting"));
  mkdirSync(join(scratch.dir, "guarded"));
  trusting = await startVolume("ours", scratch.dir, join(scratch.dir, "trusting"), master, [
    "-volume.allowUntrustedRemoteEndpoints",
  ]);
  guarded = await startVolume("ours", scratch.dir, join(scratch.dir, "guarded"), master);
});

after(async () => {
  await Promise.all([trusting?.proc.stop(), guarded?.proc.stop()]);
  await master?.proc.stop();
  await mini?.stop();
  scratch?.cleanup();
});

function conf(): RemoteConf {
  return RemoteConfMessage.create({
    name: "it",
    type: "s3",
    s3AccessKey: "admin",
    s3SecretKey: "admin",
    s3Region: "us-east-1",
    s3Endpoint,
    s3ForcePathStyle: true,
  });
}

function fetchAndWrite(
  server: VolumeProc,
  req: Partial<FetchAndWriteNeedleRequest>,
): Promise<{ eTag: string }> {
  return volumeCall(server.grpcPort, (c, done) =>
    c.fetchAndWriteNeedle(
      {
        volumeId: 0,
        needleId: 0n,
        cookie: 0,
        offset: 0n,
        size: 0n,
        replicas: [],
        auth: "",
        downloadConcurrency: 0,
        remoteConf: conf(),
        remoteLocation: RemoteStorageLocation.create({ name: "it", bucket: BUCKET, path: "/blob.bin" }),
        ...req,
      },
      (err, r) => done(err, r),
    ),
  );
}

test("a range of a remote object becomes a needle that reads back byte for byte", async () => {
  await allocateVolume(trusting.grpcPort, 7);
  const r = await fetchAndWrite(trusting, {
    volumeId: 7,
    needleId: 0x51n,
    cookie: 0x1234abcd,
    offset: 100n,
    size: 1000n,
  });
  assert.match(r.eTag, /^[0-9a-f]{8}$/);
  const got = await fetch(`${trusting.url}/7,511234abcd`);
  assert.equal(got.status, 200);
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), OBJECT.subarray(100, 1100));
});

test("a missing object is NOT_FOUND, naming the location", async () => {
  await allocateVolume(trusting.grpcPort, 8);
  await assert.rejects(
    fetchAndWrite(trusting, {
      volumeId: 8,
      needleId: 1n,
      cookie: 1,
      size: 10n,
      remoteLocation: RemoteStorageLocation.create({ name: "it", bucket: BUCKET, path: "/nope" }),
    }),
    (err: { code: number; details: string }) =>
      err.code === status.NOT_FOUND &&
      err.details.includes("read from remote") &&
      err.details.includes("/nope"),
  );
});

test("a loopback endpoint is refused unless -volume.allowUntrustedRemoteEndpoints is set", async () => {
  await allocateVolume(guarded.grpcPort, 9);
  await assert.rejects(
    fetchAndWrite(guarded, { volumeId: 9, needleId: 1n, cookie: 1, size: 10n }),
    (err: { details: string }) =>
      err.details.includes("reject remote endpoint") && err.details.includes("loopback"),
  );
  const r = await fetch(`${guarded.url}/9,0100000001`);
  assert.equal(r.status, 404, "nothing was written");
});
