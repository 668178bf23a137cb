// Request dispatch for the admin port (everything) and the public port (reads only), following the
// split of weed's volume server: fixed admin paths first, then the needle store handlers.

import type { IncomingMessage, ServerResponse } from "node:http";
import { configBool } from "../../security/config.js";
import { remoteHost } from "../../security/guard.js";
import { parseVolumeId } from "../../storage/needle/file-id.js";
import { hasReplication } from "../../storage/volume/replica-placement.js";
import type { ServerContext } from "../context.js";
import { handleHealthz, handleStatus } from "./admin.js";
import { parseFidPath } from "./fid-path.js";
import { handleDelete } from "./needle-delete.js";
import { handleRead } from "./needle-read.js";
import { handleWrite } from "./needle-write.js";
import { serveRemoteVolume } from "./remote-read.js";
import { endEmpty, setCommonHeaders, writeJsonError } from "./respond.js";
import { serveStatic } from "./static.js";
import { handleUi } from "./ui.js";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The needle handlers of the store (reads, writes, deletes); built in the HTTP issue. */
export interface StoreHandlers {
  read: Handler;
  write: Handler;
  delete: Handler;
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

export function corsForOrigin(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.origin) {
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Access-Control-Allow-Credentials", "true");
  }
}

export function adminRouter(ctx: ServerContext, store: StoreHandlers): Handler {
  return (req, res) => {
    setCommonHeaders(res, ctx.serverHeader);
    const path = pathOf(req.url);
    switch (path) {
      case "/healthz":
      case "/readyz":
        return handleHealthz(ctx, req, res);
      case "/status":
        return handleStatus(ctx, req, res);
      case "/ui/index.html":
        // weed shows the page unless JWT signing is on, where [access] ui = true must allow it.
        if (ctx.guard.keys.writeKey === "" || configBool(ctx.security, "access.ui"))
          return handleUi(ctx, req, res);
        break;
    }
    if (serveStatic(path, req, res)) return;
    corsForOrigin(req, res);
    switch (req.method) {
      case "GET":
      case "HEAD":
        return store.read(req, res);
      case "PUT":
      case "POST":
        return store.write(req, res);
      case "DELETE":
        return store.delete(req, res);
      case "OPTIONS":
        res.setHeader("Access-Control-Allow-Methods", "PUT, POST, GET, DELETE, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", "*");
        endEmpty(res, 200);
        return;
      default:
        writeJsonError(req, res, 400, `unsupported method ${req.method}`);
    }
  };
}

export function publicRouter(ctx: ServerContext, store: StoreHandlers): Handler {
  return (req, res) => {
    setCommonHeaders(res, ctx.serverHeader);
    if (serveStatic(pathOf(req.url), req, res)) return;
    corsForOrigin(req, res);
    switch (req.method) {
      case "GET":
      case "HEAD":
        return store.read(req, res);
      case "OPTIONS":
        res.setHeader("Access-Control-Allow-Methods", "GET, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", "*");
        endEmpty(res, 200);
        return;
      default:
        // weed's public port answers other methods with an empty 200.
        endEmpty(res, 200);
    }
  };
}

/** weed's guard.WhiteList around writes and deletes: a client outside the white list gets a bare 401. */
function refusedByWhiteList(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): boolean {
  if (ctx.guard.isWhiteListed(remoteHost(req.socket.remoteAddress))) return false;
  endEmpty(res, 401);
  return true;
}

/** The needle handlers, with any unexpected failure answered as a 500 rather than a crash. */
export function needleHandlers(ctx: ServerContext): StoreHandlers {
  const guarded =
    (handler: (ctx: ServerContext, req: IncomingMessage, res: ServerResponse) => Promise<void>): Handler =>
    (req, res) => {
      handler(ctx, req, res).catch((err: unknown) => {
        if (!res.headersSent) writeJsonError(req, res, 500, (err as Error).message);
        else res.destroy();
      });
    };
  return {
    read: guarded(async (ctx, req, res) => {
      if (ctx.downloads.over()) {
        // Over the limit, a replicated volume's read goes to another replica instead of waiting.
        const url = new URL(req.url ?? "/", "http://x");
        if (url.searchParams.get("proxied") !== "true") {
          const path = parseFidPath(url.pathname);
          let volumeId: number;
          try {
            volumeId = parseVolumeId(path.volumeId);
          } catch {
            endEmpty(res, 400);
            return;
          }
          const volume = ctx.store.findVolume(volumeId);
          if (volume && hasReplication(volume.superBlock.replicaPlacement)) {
            await serveRemoteVolume(ctx, req, res, url, path, volumeId, true);
            return;
          }
        }
        const outcome = await ctx.downloads.waitForRoom(req);
        if (outcome === "timeout") {
          const path = pathOf(req.url);
          writeJsonError(
            req,
            res,
            429,
            `request ${path} because inflight download data ${ctx.downloads.bytes} > ${ctx.downloads.limit}, and wait timeout`,
          );
          return;
        }
        if (outcome === "cancelled") {
          endEmpty(res, 499);
          return;
        }
      }
      await handleRead(ctx, req, res);
    }),
    write: guarded(async (ctx, req, res) => {
      const length = Number(req.headers["content-length"] ?? 0) || 0;
      const target = req.url ?? "/";
      const replicate =
        target.includes("?") && new URL(target, "http://x").searchParams.get("type") === "replicate";
      if (!replicate && ctx.uploads.over()) {
        const before = ctx.uploads.bytes;
        const outcome = await ctx.uploads.waitForRoom(req);
        if (outcome !== "ok") {
          const message =
            outcome === "timeout"
              ? `reject because inflight upload data ${before} > ${ctx.uploads.limit}, and wait timeout`
              : "context canceled";
          writeJsonError(req, res, outcome === "timeout" ? 429 : 499, message);
          return;
        }
      }
      ctx.uploads.add(length);
      res.once("close", () => ctx.uploads.release(length));
      if (refusedByWhiteList(ctx, req, res)) return;
      await handleWrite(ctx, req, res);
    }),
    delete: guarded(async (ctx, req, res) => {
      if (!refusedByWhiteList(ctx, req, res)) await handleDelete(ctx, req, res);
    }),
  };
}
