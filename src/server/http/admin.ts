// /healthz, /readyz and /status on the admin port.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerContext } from "../context.js";
import { diskStatuses, diskStatusJson } from "../system-status.js";
import { endEmpty, writeJson } from "./respond.js";

export function handleHealthz(ctx: ServerContext, _req: IncomingMessage, res: ServerResponse): void {
  const healthy = !ctx.state.stopping && ctx.state.registered;
  endEmpty(res, healthy ? 200 : 503);
}

export function handleStatus(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  writeJson(req, res, 200, {
    Version: ctx.version,
    DiskStatuses: diskStatuses(ctx.options.folders).map(diskStatusJson),
    Volumes: null,
  });
}
