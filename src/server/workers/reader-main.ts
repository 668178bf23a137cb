// A reader process (SEAWEED_READERS): accepts connections on the primary's listening sockets and
// serves plain needle reads (GET/HEAD /vid,fid with no query) of the volumes it holds with the
// primary's own read handler; every other request goes to the primary unchanged (forward.ts).

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { parseNeedlePath, parseVolumeId } from "../../storage/needle/file-id.js";
import type { Volume } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { isPlainPath, parseFidPath } from "../http/fid-path.js";
import { InflightLimiter } from "../http/inflight.js";
import { newHttpServer } from "../http/listeners.js";
import { setCommonHeaders } from "../http/respond.js";
import { corsForOrigin, needleHandlers } from "../http/router.js";
import { forward } from "./forward.js";
import type { PrimaryMessage, ReaderMessage, ReaderSetup } from "./protocol.js";
import { openReaderVolume, type VolumeDescriptor } from "./reader-volume.js";

const volumes = new Map<number, { volume: Volume; datInode: number }>();
let ctx: ServerContext | undefined;
const servers: Server[] = [];

function send(message: ReaderMessage): void {
  process.send?.(message);
}

/** The volumes the primary holds now: new or replaced ones opened, dropped ones closed. */
function applyVolumes(list: VolumeDescriptor[]): void {
  const wanted = new Set<number>();
  for (const d of list) {
    wanted.add(d.id);
    const held = volumes.get(d.id);
    if (held && held.datInode === d.datInode) continue;
    held?.volume.close();
    volumes.delete(d.id);
    try {
      volumes.set(d.id, { volume: openReaderVolume(d), datInode: d.datInode });
    } catch {
      // Not readable here (being copied, removed meanwhile): the primary serves it.
    }
  }
  for (const [id, held] of volumes) {
    if (wanted.has(id)) continue;
    held.volume.close();
    volumes.delete(id);
  }
}

/** The parts of the server context the read handler touches, over this process's volumes. */
function readerContext(s: ReaderSetup): ServerContext {
  return {
    serverHeader: s.serverHeader,
    options: { readBufferSizeMB: s.readBufferSizeMB },
    guard: { keys: { readKey: "" } },
    store: { findVolume: (id: number) => volumes.get(id)?.volume },
    downloads: new InflightLimiter(0, 0),
  } as unknown as ServerContext;
}

/** Whether this process may answer a request itself: a plain read of a needle its map has. */
function servesLocally(req: IncomingMessage): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const url = req.url ?? "/";
  if (!isPlainPath(url)) return false;
  const path = parseFidPath(url);
  if (path.volumeIdOnly) return false;
  try {
    const volume = volumes.get(parseVolumeId(path.volumeId));
    if (!volume) return false;
    const key = parseNeedlePath(path.fid);
    // A needle this map has never seen is the primary's to answer (it may hold newer files).
    volume.volume.locate(key.keyHi, key.keyLo, { readDeleted: true });
    return true;
  } catch {
    return false;
  }
}

let handlers: Record<"admin" | "public", (req: IncomingMessage, res: ServerResponse) => void> | undefined;
let idleTimeoutSeconds = 0;

function start(s: ReaderSetup): void {
  const context = readerContext(s);
  ctx = context;
  idleTimeoutSeconds = s.idleTimeoutSeconds;
  const read = needleHandlers(context).read;
  const local = !s.readKeySet && !s.downloadLimited;
  const handlerFor =
    (socketPath: string) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      if (!local || !servesLocally(req)) {
        forward(socketPath, req, res);
        return;
      }
      setCommonHeaders(res, context.serverHeader);
      corsForOrigin(req, res);
      read(req, res);
    };
  handlers = { admin: handlerFor(s.adminSocket), public: handlerFor(s.publicSocket) };
}

/** Accepts on one of the primary's listening sockets, with the primary's listener settings. */
function listenOn(port: "admin" | "public", handle: Server): void {
  if (!handlers) return;
  const server = newHttpServer(handlers[port], idleTimeoutSeconds);
  server.listen(handle);
  servers.push(server);
}

process.on("message", (message: PrimaryMessage, handle?: Server | Socket) => {
  switch (message.type) {
    case "setup":
      start(message.setup);
      send({ type: "ready" });
      return;
    case "listen":
      if (handle) listenOn(message.port, handle as Server);
      return;
    case "volumes":
      applyVolumes(message.volumes);
      if (ctx) ctx.serverHeader = message.serverHeader;
      send({ type: "applied", seq: message.seq });
      return;
    case "stop":
      for (const server of servers) server.close();
      for (const held of volumes.values()) held.volume.close();
      process.exit(0);
  }
});
// The primary is gone: so is this reader.
process.on("disconnect", () => process.exit(0));
