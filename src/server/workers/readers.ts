// The primary's side of the reader processes (SEAWEED_READERS=N; ARCHITECTURE.md, "Using every
// core"): forks them, hands them the listening sockets, keeps them told which volumes exist, serves
// the requests they pass on over Unix sockets, and restarts one that dies.

import { type ChildProcess, fork } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { log } from "../../util/log.js";
import type { ServerContext } from "../context.js";
import { type HttpListener, newHttpServer } from "../http/listeners.js";
import type { Handler } from "../http/router.js";
import type { PrimaryMessage, ReaderMessage, ReaderSetup } from "./protocol.js";
import type { VolumeDescriptor } from "./reader-volume.js";

const READER_MAIN = fileURLToPath(new URL("./reader-main.js", import.meta.url));
/** How often the volume list is re-sent (vacuum commits and copies replace files without an event). */
const REFRESH_MS = 1000;

/** How many reader processes the environment asks for (0: none, the single-process server). */
export function readerCount(): number {
  const n = Number.parseInt(process.env.SEAWEED_READERS ?? "0", 10);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 64) : 0;
}

/**
 * Processes accepting from one listening socket: libuv accepts every pending connection at once,
 * so the first process awake takes a whole burst and the others idle. In single-accept mode each
 * process takes one and yields, which spreads the connections. libuv reads the switch at the
 * first listen of a process, so this runs before any port is bound; the readers inherit it.
 */
export function balanceAccepts(): void {
  process.env.UV_TCP_SINGLE_ACCEPT = "1";
}

export interface Readers {
  stop(): Promise<void>;
}

interface Port {
  name: "admin" | "public";
  listener: HttpListener;
  handler: Handler;
}

function listenUnix(path: string, handler: Handler, idleTimeoutSeconds: number): Promise<Server> {
  rmSync(path, { force: true });
  const server = newHttpServer(handler, idleTimeoutSeconds);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}

function describeVolumes(ctx: ServerContext): VolumeDescriptor[] {
  const list: VolumeDescriptor[] = [];
  for (const { volume } of ctx.store.volumes()) {
    try {
      list.push({
        dir: volume.dir,
        idxDir: volume.idxDir,
        collection: volume.collection,
        id: volume.id,
        width: volume.width,
        datInode: statSync(volume.fileName(".dat")).ino,
      });
    } catch {
      // Its files are being replaced: the next refresh has it.
    }
  }
  return list;
}

export async function startReaders(ctx: ServerContext, count: number, ports: Port[]): Promise<Readers> {
  const base = join(tmpdir(), `seaweed-volume-${process.pid}`);
  const sockets = new Map<string, string>();
  const unixServers: Server[] = [];
  for (const port of ports) {
    const path = `${base}-${port.name}.sock`;
    unixServers.push(await listenUnix(path, port.handler, ctx.options.idleTimeoutSeconds));
    sockets.set(port.name, path);
  }
  const adminSocket = sockets.get("admin")!;
  const setup: ReaderSetup = {
    adminSocket,
    publicSocket: sockets.get("public") ?? adminSocket,
    serverHeader: ctx.serverHeader,
    idleTimeoutSeconds: ctx.options.idleTimeoutSeconds,
    readBufferSizeMB: ctx.options.readBufferSizeMB,
    readKeySet: ctx.guard.keys.readKey !== "",
    downloadLimited: ctx.downloads.enabled,
  };
  const children = new Set<ChildProcess>();
  let stopping = false;
  let seq = 0;

  const message = (child: ChildProcess, m: PrimaryMessage, handle?: Server) => {
    if (child.connected) child.send(m, handle);
  };
  const volumesMessage = (): PrimaryMessage => ({
    type: "volumes",
    volumes: describeVolumes(ctx),
    serverHeader: ctx.serverHeader,
    seq: ++seq,
  });
  const broadcast = () => {
    if (children.size === 0) return;
    const m = volumesMessage();
    for (const child of children) message(child, m);
  };

  const spawnReader = () => {
    const child = fork(READER_MAIN, [], { stdio: "inherit" });
    children.add(child);
    child.on("message", (m: ReaderMessage) => {
      if (m.type !== "ready") return;
      // Volumes first, so the first connection it accepts finds them.
      message(child, volumesMessage());
      for (const port of ports)
        for (const server of port.listener.servers)
          message(child, { type: "listen", port: port.name }, server);
    });
    child.on("exit", (code, signal) => {
      children.delete(child);
      if (stopping) return;
      log.warn(`reader process ${child.pid} exited (${signal ?? code}); starting another`);
      setTimeout(spawnReader, 500).unref();
    });
    message(child, { type: "setup", setup });
  };
  for (let i = 0; i < count; i++) spawnReader();
  log.info(`${count} reader process(es) serve reads on the HTTP ports`);

  ctx.store.addListener({ volumeAdded: broadcast, volumeDeleted: broadcast });
  const refresh = setInterval(broadcast, REFRESH_MS);
  refresh.unref();

  return {
    async stop() {
      stopping = true;
      clearInterval(refresh);
      await Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once("exit", () => resolve());
              message(child, { type: "stop" });
              setTimeout(() => child.kill("SIGKILL"), 5000).unref();
            }),
        ),
      );
      for (const server of unixServers) {
        server.closeAllConnections();
        server.close();
      }
      for (const path of sockets.values()) rmSync(path, { force: true });
    },
  };
}
