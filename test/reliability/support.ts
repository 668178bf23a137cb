// Shared pieces of the reliability tests: a volume server on fixed ports that can be killed and
// restarted on the same directory, a gRPC client, raw-body writes and read-back checks.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { networkInterfaces } from "node:os";
import { after, before } from "node:test";
import { credentials } from "@grpc/grpc-js";
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

/**
 * A scratch directory and a weed master shared by a test file's tests: made before them, stopped
 * and removed after them (`teardown` first, for what the tests left running or mounted).
 */
export function fileSetup(
  prefix: string,
  teardown?: () => Promise<void> | void,
): { dir: string; master: Master } {
  const env = {} as { dir: string; master: Master };
  let cleanup: (() => void) | undefined;
  before(async () => {
    const scratch = scratchDir(prefix);
    cleanup = scratch.cleanup;
    env.dir = scratch.dir;
    env.master = await startMaster(scratch.dir);
  });
  after(async () => {
    await teardown?.();
    await env.master?.proc.stop();
    cleanup?.();
  });
  return env;
}

export interface Restartable {
  port: number;
  grpcPort: number;
  url: string;
  grpcAddress: string;
  proc: Proc;
  start(): Promise<Proc>;
}

/** Our volume server on `data`, on ports kept across restarts. */
export async function restartable(
  dir: string,
  data: string,
  master: Master,
  name: string,
  extra: string[] = [],
  ip = "127.0.0.1",
): Promise<Restartable> {
  const port = await freePort();
  const grpcPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server: Restartable = {
    port,
    grpcPort,
    url,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    proc: undefined as unknown as Proc,
    async start() {
      server.proc = startProcess(
        launcher,
        [
          `-port=${port}`,
          `-port.grpc=${grpcPort}`,
          `-ip=${ip}`,
          `-dir=${data}`,
          "-max=8",
          `-master=127.0.0.1:${master.port}.${master.grpcPort}`,
          "-preStopSeconds=0",
          ...extra,
        ],
        dir,
        name,
      );
      await waitFor(`${url}/status`, (s) => s === 200);
      return server.proc;
    },
  };
  await server.start();
  return server;
}

export function client(grpcAddress: string): VolumeServerClient {
  return new VolumeServerClient(grpcAddress, credentials.createInsecure());
}

/** A unary call as a promise. */
export function unary<Req, Res>(
  c: VolumeServerClient,
  method: string,
  req: Req,
  deadlineMs = 60_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    // biome-ignore lint/suspicious/noExplicitAny: the generated client's methods by name
    (c as any)[method](req, { deadline: Date.now() + deadlineMs }, (err: Error | null, res: Res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** A server-streaming call drained to its end. */
export function drain<Req>(
  c: VolumeServerClient,
  method: string,
  req: Req,
  deadlineMs = 60_000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const out: unknown[] = [];
    // biome-ignore lint/suspicious/noExplicitAny: the generated client's methods by name
    const call = (c as any)[method](req, { deadline: Date.now() + deadlineMs });
    call.on("data", (m: unknown) => out.push(m));
    call.on("error", reject);
    call.on("end", () => resolve(out));
  });
}

export async function allocate(c: VolumeServerClient, volumeId: number, replication = "000"): Promise<void> {
  await unary(c, "allocateVolume", {
    volumeId,
    collection: "",
    preallocate: 0n,
    replication,
    ttl: "",
    memoryMapMaxSizeMb: 0,
    diskType: "",
    version: 3,
  });
}

export const fidOf = (vid: number, key: number) =>
  `${vid},${key.toString(16)}${(0x10000000 + key).toString(16)}`;
export const bodyOf = (key: number) => Buffer.alloc(1 + ((key * 7919) % 20000), key % 256);
export const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A raw-body POST (with a Content-Type: weed parses a bare POST as multipart); its status. */
export async function put(url: string, fid: string, body: Uint8Array): Promise<number> {
  return (await putText(url, fid, body)).status;
}

/** put() with the answer's text (the error message of a failed write). */
export async function putText(
  url: string,
  fid: string,
  body: Uint8Array,
): Promise<{ status: number; text: string }> {
  const r = await fetch(`${url}/${fid}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/octet-stream" },
  });
  return { status: r.status, text: await r.text() };
}

/** Each fid's status and body hash as served. */
export async function readAll(
  url: string,
  fids: Iterable<string>,
): Promise<Map<string, { status: number; hash: string }>> {
  const out = new Map<string, { status: number; hash: string }>();
  for (const fid of fids) {
    const r = await fetch(`${url}/${fid}`);
    const body = new Uint8Array(await r.arrayBuffer());
    out.set(fid, { status: r.status, hash: r.status === 200 ? sha(body) : "" });
  }
  return out;
}

/** This host's first non-internal IPv4 address: copy and tail sources may not be loopback (as Go). */
export function hostIp(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  throw new Error("no non-loopback IPv4 address to copy between servers");
}

/** Polls `check` until it holds; throws naming `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out: ${what}`);
}

/** A volume's gRPC VolumeStatus (isReadOnly), undefined when the server does not hold it. */
export async function volumeStatus(
  grpcAddress: string,
  volumeId: number,
): Promise<{ isReadOnly: boolean } | undefined> {
  const c = client(grpcAddress);
  try {
    return await unary(c, "volumeStatus", { volumeId }, 10_000);
  } catch {
    return undefined;
  } finally {
    c.close();
  }
}

/** Mounts a tmpfs of `size` (e.g. "8m") on `dir`; the reason when not permitted (not root). */
export function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs on ${dir}: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`;
  }
}

export function unmount(dir: string): void {
  try {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
  } catch {}
}

/**
 * Runs `attempt` until it is not refused as UNAVAILABLE: a restarted peer may still be refused for
 * a moment (the channel to it backs off after a kill), as an operator's first retry could be.
 */
export async function retryWhileUnavailable<T>(attempt: () => Promise<T>, tries = 10): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= tries || !/Unavailable|UNAVAILABLE|No connection established/.test((err as Error).message))
        throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
