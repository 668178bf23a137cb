// /healthz, /readyz and /status on the admin port.

import type { IncomingMessage, ServerResponse } from "node:http";
import { diskUsage } from "../../util/disk.js";
import type { ServerContext } from "../context.js";
import { endEmpty, writeJson } from "./respond.js";

export function handleHealthz(ctx: ServerContext, _req: IncomingMessage, res: ServerResponse): void {
  const healthy = !ctx.state.stopping && ctx.state.registered;
  endEmpty(res, healthy ? 200 : 503);
}

export function handleStatus(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  const diskStatuses = ctx.options.folders.map((folder) => {
    const entry: Record<string, unknown> = { dir: folder.directory };
    try {
      const u = diskUsage(folder.directory);
      Object.assign(entry, {
        all: u.all,
        used: u.used,
        free: u.free,
        percent_free: u.percentFree,
        percent_used: u.percentUsed,
      });
    } catch (err) {
      entry["error"] = (err as Error).message;
    }
    if (folder.diskType) entry["disk_type"] = folder.diskType;
    return entry;
  });
  writeJson(req, res, 200, { Version: ctx.version, DiskStatuses: diskStatuses, Volumes: null });
}
