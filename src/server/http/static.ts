// /favicon.ico and /seaweedfsstatic/* on both ports, as weed serves its embedded assets. Ours
// live in assets/ (our own images), read once at start-up; nothing outside that list is served.

import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ASSETS_DIR = fileURLToPath(new URL("../../../../assets/", import.meta.url));
const TYPES: Record<string, string> = {
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
};

const assets = new Map<string, Buffer>();
for (const name of readdirSync(ASSETS_DIR)) assets.set(name, readFileSync(join(ASSETS_DIR, name)));

/** Go's http.NotFound, as its file server and its mux answer a path they have nothing for. */
export function writeGoNotFound(req: IncomingMessage, res: ServerResponse): void {
  const text = "404 page not found\n";
  res.writeHead(404, {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    "Content-Length": text.length,
  });
  res.end(req.method === "HEAD" ? undefined : text);
}

/** Serves a static asset when the path names one; returns false otherwise. */
export function serveStatic(path: string, req: IncomingMessage, res: ServerResponse): boolean {
  let name: string | undefined;
  if (path === "/favicon.ico") name = "favicon.ico";
  else if (path.startsWith("/seaweedfsstatic/")) name = path.slice("/seaweedfsstatic/".length);
  if (name === undefined) return false;
  const body = assets.get(name);
  if (!body && (req.method === "GET" || req.method === "HEAD")) {
    writeGoNotFound(req, res);
    return true;
  }
  if (!body || (req.method !== "GET" && req.method !== "HEAD")) {
    // Go's file server: a plain-text "404 page not found".
    const text = "404 page not found\n";
    res.writeHead(404, {
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
      "Content-Length": Buffer.byteLength(text),
    });
    res.end(req.method === "HEAD" ? undefined : text);
    return true;
  }
  res.writeHead(200, {
    "Content-Type": TYPES[extname(name)] ?? "application/octet-stream",
    "Content-Length": body.length,
    "Cache-Control": "public, max-age=86400",
  });
  res.end(req.method === "HEAD" ? undefined : body);
  return true;
}
