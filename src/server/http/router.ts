// Request dispatch for the admin port (everything) and the public port (reads only), following the
// split of weed's volume server: fixed admin paths first, then the needle store handlers.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerContext } from "../context.js";
import { handleHealthz, handleStatus } from "./admin.js";
import { handleDelete } from "./needle-delete.js";
import { handleRead } from "./needle-read.js";
import { handleWrite } from "./needle-write.js";
import { endEmpty, setCommonHeaders, writeJsonError } from "./respond.js";

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

function corsForOrigin(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.origin) {
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Access-Control-Allow-Credentials", "true");
  }
}

export function adminRouter(ctx: ServerContext, store: StoreHandlers): Handler {
  return (req, res) => {
    setCommonHeaders(res, ctx.serverHeader);
    switch (pathOf(req.url)) {
      case "/healthz":
      case "/readyz":
        return handleHealthz(ctx, req, res);
      case "/status":
        return handleStatus(ctx, req, res);
    }
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
  return { read: guarded(handleRead), write: guarded(handleWrite), delete: guarded(handleDelete) };
}
