// Real processes for integration tests: the pinned Go `weed` (built once into .cache/bin) and our
// bin/weed-volume, on free loopback ports, stopped and cleaned up by the test.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const launcher = join(repoRoot, "bin", "weed-volume");

let weedPath: string | undefined;

/** The pinned weed binary, built on first use (minutes the very first time). */
export function weedBinary(): string {
  weedPath ??= execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      "import('./scripts/lib/weed.mjs').then((m) => console.log(m.ensureWeed({ quiet: true })))",
    ],
    { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  ).trim();
  return weedPath;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor(
  url: string,
  accept: (status: number) => boolean,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      last = r.status;
      if (accept(r.status)) return r.status;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${url} (last status ${last})`);
}

export class Proc {
  readonly exited: Promise<number | null>;
  constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }
  log(): string {
    return readFileSync(this.logFile, "utf8");
  }
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export function startProcess(command: string, args: string[], cwd: string, name: string): Proc {
  const logFile = join(cwd, `${name}.log`);
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, { cwd, stdio: ["ignore", fd, fd] });
  return new Proc(child, logFile);
}

/** A scratch directory removed by the returned cleanup. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Master {
  port: number;
  grpcPort: number;
  url: string;
  proc: Proc;
}

export async function startMaster(dir: string, extra: string[] = []): Promise<Master> {
  const port = await freePort();
  const grpcPort = await freePort();
  const mdir = join(dir, "master");
  mkdirSync(mdir, { recursive: true });
  const proc = startProcess(
    weedBinary(),
    [
      "master",
      "-ip=127.0.0.1",
      `-port=${port}`,
      `-port.grpc=${grpcPort}`,
      `-mdir=${mdir}`,
      "-peers=none",
      "-volumeSizeLimitMB=32",
      "-defaultReplication=000",
      ...extra,
    ],
    dir,
    "master",
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/dir/status`, (s) => s === 200);
  return { port, grpcPort, url, proc };
}

export interface VolumeProc {
  port: number;
  grpcPort: number;
  url: string;
  proc: Proc;
}

/**
 * A volume server (ours or the Go one) on fresh ports, waited for until healthy; ours starts from
 * `oursCommand` (the checkout's bin/weed-volume unless another install's is given).
 */
export async function startVolume(
  kind: "ours" | "go",
  dir: string,
  dataDir: string,
  master: Master,
  extra: string[] = [],
  oursCommand = launcher,
): Promise<VolumeProc> {
  const port = await freePort();
  const grpcPort = await freePort();
  const args = [
    `-port=${port}`,
    `-port.grpc=${grpcPort}`,
    "-ip=127.0.0.1",
    `-dir=${dataDir}`,
    "-max=8",
    `-master=127.0.0.1:${master.port}.${master.grpcPort}`,
    "-preStopSeconds=0",
    ...extra,
  ];
  const proc =
    kind === "go"
      ? startProcess(weedBinary(), ["volume", ...args], dir, `go-volume-${port}`)
      : startProcess(oursCommand, args, dir, `volume-${port}`);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/status`, (s) => s === 200);
  return { port, grpcPort, url, proc };
}
