// A real S3 endpoint for tests: the pinned `weed mini` (master, volume, filer and S3 gateway in one
// process) on free ports, as SeaweedFS's own remote-storage tests start it; admin/admin credentials.

import { spawn } from "node:child_process";
import { mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { freePort, Proc, waitFor, weedBinary } from "../support/processes.js";

export const S3_KEY = "admin";
export const S3_SECRET = "admin";

export interface S3Endpoint {
  url: string;
  client: S3Client;
  proc: Proc;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3(dir: string): Promise<S3Endpoint> {
  const miniDir = join(dir, "mini");
  mkdirSync(miniDir, { recursive: true });
  writeFileSync(join(miniDir, "security.toml"), "# empty\n");
  const ports: number[] = [];
  for (let i = 0; i < 10; i++) ports.push(await freePort());
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc, admin, adminGrpc] = ports;
  const args = [
    "mini",
    `-dir=${miniDir}`,
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    `-s3.port=${s3}`,
    `-s3.port.grpc=${s3Grpc}`,
    `-admin.port=${admin}`,
    `-admin.port.grpc=${adminGrpc}`,
    "-admin.port.legacy=0",
    "-webdav=false",
    "-s3.port.lance=0",
    "-s3.port.iceberg=0",
  ];
  const logFile = join(dir, "weed-mini.log");
  const child = spawn(weedBinary(), args, {
    cwd: miniDir,
    stdio: ["ignore", openSync(logFile, "a"), openSync(logFile, "a")],
    env: { ...process.env, AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET },
  });
  const proc = new Proc(child, logFile);
  const url = `http://127.0.0.1:${s3}`;
  const client = new S3Client({
    region: "us-east-1",
    endpoint: url,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
  });
  try {
    await waitFor(`${url}/`, (status) => status > 0, 60_000);
  } catch (err) {
    await proc.stop();
    throw new Error(`weed mini did not start: ${(err as Error).message}\n${proc.log().slice(-2000)}`);
  }
  const createBucket = async (name: string) => {
    // The gateway may answer before the filer behind it is ready: retry for a while.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  };
  return {
    url,
    client,
    proc,
    createBucket,
    stop: async () => {
      client.destroy();
      await proc.stop("SIGTERM");
    },
  };
}
