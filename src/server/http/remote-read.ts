// Reads of volumes this server does not hold, by -readMode: "local" answers 404, "proxy" fetches
// from a holder the master names (marking the request proxied so it cannot loop), "redirect"
// answers 301 to that holder. Reads over the download limit go to a replica the same way.

import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { VolumeNotLocated } from "../../cluster/volume-lookup.js";
import type { ServerContext } from "../context.js";
import type { FidPath } from "./fid-path.js";
import { endEmpty } from "./respond.js";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "transfer-encoding",
]);

function dropHopByHop(
  headers: IncomingMessage["headers"],
  extra: string[],
): Record<string, string | string[]> {
  const drop = new Set([...HOP_BY_HOP, ...extra]);
  for (const token of String(headers.connection ?? "").split(",")) drop.add(token.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !drop.has(k)) out[k] = v;
  return out;
}

export async function serveRemoteVolume(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  path: FidPath,
  volumeId: number,
  toReplica = false,
): Promise<void> {
  const mode = ctx.options.readMode === "proxy" ? "proxy" : toReplica ? "redirect" : ctx.options.readMode;
  if (mode === "local" || url.searchParams.get("proxied") === "true") {
    endEmpty(res, 404);
    return;
  }
  let locations: { url: string }[];
  try {
    locations = await ctx.lookup.locations(volumeId);
  } catch (err) {
    // weed: a master that cannot be asked is a 500 when proxying; an unknown volume is a 404.
    endEmpty(res, mode === "proxy" && !(err instanceof VolumeNotLocated) ? 500 : 404);
    return;
  }
  const self = `${ctx.options.ip}:${ctx.options.port}`;
  const shuffled = [...locations].sort(() => Math.random() - 0.5);
  const target = shuffled.find((l) => !l.url.includes(self));
  if (!target) {
    endEmpty(res, 404);
    return;
  }
  if (mode === "redirect") {
    const query = new URLSearchParams();
    const collection = url.searchParams.get("collection");
    if (collection) query.set("collection", collection);
    query.set("proxied", "true");
    const location = `http://${target.url}/${path.volumeId},${path.fid}?${query}`;
    const body = req.method === "GET" ? `<a href="${location}">Moved Permanently</a>.\n\n` : "";
    res.writeHead(301, {
      Location: location,
      "Content-Type": "text/html; charset=utf-8",
      "Content-Length": Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  url.searchParams.set("proxied", "true");
  await new Promise<void>((resolve) => {
    const upstream = httpRequest(
      `http://${target.url}${url.pathname}?${url.searchParams}`,
      { method: req.method, headers: dropHopByHop(req.headers, ["host", "content-length"]) },
      (answer) => {
        const headers = dropHopByHop(answer.headers, ["server"]);
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
        answer.on("end", resolve);
        answer.on("error", () => resolve());
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) endEmpty(res, 500);
      else res.destroy();
      resolve();
    });
    req.on("close", () => upstream.destroy());
    upstream.end();
  });
}
