// The remote tier against a real S3 endpoint (weed mini) and a real master that hands out the S3
// backend in its heartbeat answer: a volume moved to S3 is read over HTTP from there and moved
// back byte for byte; FetchAndWriteNeedle stores a range of an object, and its endpoint guard
// refuses a loopback endpoint with weed's error.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { FetchAndWriteNeedleRequest, VolumeServerClient } from "../../src/pb/volume_server.js";
import { S3Backend, uploadPartSize } from "../../src/storage/backend/s3-backend.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";
import { S3_KEY, S3_SECRET, type S3Endpoint, startS3 } from "./s3-endpoint.js";

const TIER_BUCKET = "tier";
const FETCH_BUCKET = "fetch";
const COLLECTION = "cold";
const TIERED_VOLUME = 7;
const FETCH_VOLUME = 8;

let scratch: ReturnType<typeof scratchDir>;
let s3: S3Endpoint;
let master: Master;
/** Without -volume.allowUntrustedRemoteEndpoints: holds the tiered volume. */
let guarded: VolumeProc;
let guardedClient: VolumeServerClient;
/** With the opt-out, so it may fetch from the loopback S3 endpoint. */
let trusting: VolumeProc;
let trustingClient: VolumeServerClient;

function unaryCall<Req, Res>(
  fn: (req: Req, cb: (err: ServiceError | null, res?: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res!))));
}

/** Runs a server-streaming call to its end; resolves with the messages. */
function streamCall<T>(stream: NodeJS.EventEmitter): Promise<T[]> {
  const messages: T[] = [];
  return new Promise((resolve, reject) => {
    stream.on("data", (m: T) => messages.push(m));
    stream.on("error", reject);
    stream.on("end", () => resolve(messages));
  });
}

before(async () => {
  scratch = scratchDir("remote-tier-");
  s3 = await startS3(scratch.dir);
  await s3.createBucket(TIER_BUCKET);
  await s3.createBucket(FETCH_BUCKET);
  // The master reads master.toml from its working directory and passes the backend on.
  writeFileSync(
    join(scratch.dir, "master.toml"),
    [
      "[storage.backend]",
      "[storage.backend.s3.default]",
      "enabled = true",
      `aws_access_key_id = "${S3_KEY}"`,
      `aws_secret_access_key = "${S3_SECRET}"`,
      'region = "us-east-1"',
      `bucket = "${TIER_BUCKET}"`,
      `endpoint = "${s3.url}"`,
      "",
    ].join("\n"),
  );
  master = await startMaster(scratch.dir);
  mkdirSync(join(scratch.dir, "guarded"));
  mkdirSync(join(scratch.dir, "trusting"));
  guarded = await startVolume("ours", scratch.dir, join(scratch.dir, "guarded"), master);
  trusting = await startVolume("ours", scratch.dir, join(scratch.dir, "trusting"), master, [
    "-volume.allowUntrustedRemoteEndpoints",
  ]);
  guardedClient = new VolumeServerClient(`127.0.0.1:${guarded.grpcPort}`, credentials.createInsecure());
  trustingClient = new VolumeServerClient(`127.0.0.1:${trusting.grpcPort}`, credentials.createInsecure());
});

after(async () => {
  guardedClient?.close();
  trustingClient?.close();
  await trusting?.proc.stop();
  await guarded?.proc.stop();
  await master?.proc.stop();
  await s3?.stop();
  scratch?.cleanup();
});

/** Needles of assorted sizes, one large enough to be streamed in chunks. */
function sampleNeedles(): Map<string, Buffer> {
  const needles = new Map<string, Buffer>();
  const sizes = [1, 100, 4096, 300_000, 3 * 1024 * 1024 + 17];
  sizes.forEach((size, i) => {
    const data = Buffer.alloc(size);
    for (let j = 0; j < size; j++) data[j] = (j * 31 + i * 7) & 0xff;
    needles.set(`${TIERED_VOLUME},${(i + 1).toString(16)}0000abcd`, data);
  });
  return needles;
}

async function readAll(needles: Map<string, Buffer>, server: VolumeProc): Promise<void> {
  for (const [fid, data] of needles) {
    const r = await fetch(`${server.url}/${fid}`);
    if (r.status !== 200)
      assert.fail(`GET ${fid}: ${r.status} ${await r.text()}\n${server.proc.log().slice(-1500)}`);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(data), `content of ${fid}`);
  }
  const [fid, data] = [...needles].at(-1)!;
  const ranged = await fetch(`${server.url}/${fid}`, { headers: { Range: "bytes=1000000-1000099" } });
  assert.equal(ranged.status, 206);
  assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(1_000_000, 1_000_100)));
}

test("a volume tiered to S3 is served from there and comes back byte for byte", async () => {
  const c = guardedClient;
  await unaryCall(c.allocateVolume.bind(c), {
    volumeId: TIERED_VOLUME,
    collection: COLLECTION,
    preallocate: 0n,
    replication: "000",
    ttl: "",
    memoryMapMaxSizeMb: 0,
    diskType: "",
    version: 0,
  });
  const needles = sampleNeedles();
  for (const [fid, data] of needles) {
    const r = await fetch(`${guarded.url}/${fid}`, {
      method: "POST",
      body: data,
      headers: { "Content-Type": "application/octet-stream" },
    });
    assert.equal(r.status, 201, `POST ${fid}: ${await r.text()}`);
  }
  const base = join(scratch.dir, "guarded", `${COLLECTION}_${TIERED_VOLUME}`);
  const original = readFileSync(`${base}.dat`);

  await streamCall(
    c.volumeTierMoveDatToRemote({
      volumeId: TIERED_VOLUME,
      collection: COLLECTION,
      destinationBackendName: "s3.default",
      keepLocalDatFile: false,
      concurrency: 0,
    }),
  );
  assert.equal(existsSync(`${base}.dat`), false, "the local .dat is removed");
  const info = JSON.parse(readFileSync(`${base}.vif`, "utf8"));
  assert.equal(info.files.length, 1);
  assert.equal(info.files[0].backendType, "s3");
  assert.equal(info.files[0].backendId, "default");
  assert.equal(info.files[0].extension, ".dat");
  assert.equal(Number(info.files[0].fileSize), original.length);
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: TIER_BUCKET }));
  assert.deepEqual(
    listed.Contents?.map((o) => [o.Key, o.Size]),
    [[info.files[0].key, original.length]],
  );

  await readAll(needles, guarded);

  // Restarted, the server loads the tiered volume from its .vif and serves it from S3 again.
  guardedClient.close();
  await guarded.proc.stop();
  guarded = await startVolume("ours", scratch.dir, join(scratch.dir, "guarded"), master);
  guardedClient = new VolumeServerClient(`127.0.0.1:${guarded.grpcPort}`, credentials.createInsecure());
  const c2 = guardedClient;
  await readAll(needles, guarded);
  const refusedWrite = await fetch(`${guarded.url}/${TIERED_VOLUME},fe0000abcd`, {
    method: "POST",
    body: "x",
    headers: { "Content-Type": "text/plain" },
  });
  assert.notEqual(refusedWrite.status, 201, "a tiered volume is read-only");

  // A second move to the same backend is a no-op, as weed's.
  await streamCall(
    c2.volumeTierMoveDatToRemote({
      volumeId: TIERED_VOLUME,
      collection: COLLECTION,
      destinationBackendName: "s3.default",
      keepLocalDatFile: false,
      concurrency: 0,
    }),
  );

  await streamCall(
    c2.volumeTierMoveDatFromRemote({
      volumeId: TIERED_VOLUME,
      collection: COLLECTION,
      keepRemoteDatFile: false,
      concurrency: 0,
    }),
  );
  assert.ok(readFileSync(`${base}.dat`).equals(original), "the .dat is byte-identical");
  assert.deepEqual(JSON.parse(readFileSync(`${base}.vif`, "utf8")).files, []);
  const emptied = await s3.client.send(new ListObjectsV2Command({ Bucket: TIER_BUCKET }));
  assert.equal(emptied.Contents?.length ?? 0, 0, "the remote object is deleted");
  await readAll(needles, guarded);

  // Local again: writable, and a further move back is refused as weed refuses it.
  const extra = `${TIERED_VOLUME},ff0000abcd`;
  const w = await fetch(`${guarded.url}/${extra}`, {
    method: "POST",
    body: "after",
    headers: { "Content-Type": "text/plain" },
  });
  assert.equal(w.status, 201);
  await assert.rejects(
    streamCall(
      c2.volumeTierMoveDatFromRemote({
        volumeId: TIERED_VOLUME,
        collection: COLLECTION,
        keepRemoteDatFile: false,
        concurrency: 0,
      }),
    ),
    /volume 7 is already on local disk/,
  );
});

test("FetchAndWriteNeedle stores a range of a remote object as a needle", async () => {
  const object = Buffer.alloc(2048);
  for (let i = 0; i < object.length; i++) object[i] = (i * 13) & 0xff;
  await s3.client.send(new PutObjectCommand({ Bucket: FETCH_BUCKET, Key: "dir/object.bin", Body: object }));
  const c = trustingClient;
  await unaryCall(c.allocateVolume.bind(c), {
    volumeId: FETCH_VOLUME,
    collection: "",
    preallocate: 0n,
    replication: "000",
    ttl: "",
    memoryMapMaxSizeMb: 0,
    diskType: "",
    version: 0,
  });
  const request = FetchAndWriteNeedleRequest.fromPartial({
    volumeId: FETCH_VOLUME,
    needleId: 0x42n,
    cookie: 0x1234abcd,
    offset: 100n,
    size: 500n,
    replicas: [],
    auth: "",
    downloadConcurrency: 0,
    remoteConf: {
      type: "s3",
      name: "it",
      s3AccessKey: S3_KEY,
      s3SecretKey: S3_SECRET,
      s3Region: "us-east-1",
      s3Endpoint: s3.url,
      s3ForcePathStyle: true,
    },
    remoteLocation: { name: "it", bucket: FETCH_BUCKET, path: "/dir/object.bin", listingCacheTtlSeconds: 0 },
  });
  const answer = (await unaryCall(c.fetchAndWriteNeedle.bind(c), request)) as { eTag: string };
  const r = await fetch(`${trusting.url}/${FETCH_VOLUME},421234abcd`);
  assert.equal(r.status, 200);
  const body = Buffer.from(await r.arrayBuffer());
  assert.ok(body.equals(object.subarray(100, 600)));
  assert.equal(`"${answer.eTag}"`, r.headers.get("etag"));

  // A missing object is NOT_FOUND with weed's text.
  const missing = { ...request, remoteLocation: { ...request.remoteLocation!, path: "/nope" } };
  const notFound = await unaryCall(c.fetchAndWriteNeedle.bind(c), missing).catch((e: ServiceError) => e);
  assert.equal((notFound as ServiceError).code, 5);
  assert.match((notFound as ServiceError).details, /read from remote .*remote object not found/);

  // Without the opt-out, the loopback endpoint is refused before anything is dialled.
  const g = guardedClient;
  const refused = await unaryCall(g.fetchAndWriteNeedle.bind(g), {
    ...request,
    volumeId: TIERED_VOLUME,
  }).catch((e: ServiceError) => e);
  assert.equal(
    (refused as ServiceError).details,
    `reject remote endpoint: remote endpoint "${s3.url}" resolves to loopback address 127.0.0.1`,
  );
});

test("a .dat larger than one part goes up in parts and comes down identical, with progress", async () => {
  const size = uploadPartSize(0) + 5 * 1024 * 1024 + 3;
  const source = join(scratch.dir, "big.dat");
  const content = randomBytes(size);
  writeFileSync(source, content);
  const backend = new S3Backend("default", {
    aws_access_key_id: S3_KEY,
    aws_secret_access_key: S3_SECRET,
    region: "us-east-1",
    bucket: TIER_BUCKET,
    endpoint: s3.url,
  });
  const up: number[] = [];
  const { key, size: sent } = await backend.copyFile(source, (done) => void up.push(done), 2);
  assert.equal(sent, size);
  assert.deepEqual(up.sort((a, b) => a - b).at(-1), size);
  assert.equal(up.length, 2, "two parts");
  const target = join(scratch.dir, "big-back.dat");
  const down: number[] = [];
  assert.equal(await backend.downloadFile(target, key, (done) => void down.push(done), 3), size);
  assert.ok(readFileSync(target).equals(content));
  assert.equal(Math.max(...down), size);
  assert.ok((await backend.readAt(key, size - 10, 10)).equals(content.subarray(size - 10)));
  await backend.deleteFile(key);
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: TIER_BUCKET }));
  assert.equal(listed.Contents?.length ?? 0, 0);
});
