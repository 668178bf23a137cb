// GET/HEAD /<fid>: serve a needle, as weed's GetOrHeadHandler: cookie check, ETag and
// Last-Modified with conditional requests, pair headers, content type, gzip-stored needles, chunk
// manifests, image transforms. Needles over 1 MiB stream from disk in pieces (memory per request
// stays bounded) with the checksum verified on the way; a mismatch aborts the response.

import type { IncomingMessage, ServerResponse } from "node:http";
import { extname } from "node:path";
import { gunzipSync } from "node:zlib";
import { hasImageOps, imageOps, transformImage } from "../../images/transform.js";
import { tokenFromRequest, verifyFileIdToken } from "../../security/jwt.js";
import { crcEtag, maskedCrc, needleCrc } from "../../storage/needle/crc.js";
import { parseNeedlePath, parseVolumeId } from "../../storage/needle/file-id.js";
import {
  FLAG_CHUNK_MANIFEST,
  FLAG_COMPRESSED,
  FLAG_HAS_PAIRS,
  type Needle,
} from "../../storage/needle/needle.js";
import { type Volume, VolumeError } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { type ChunkManifest, loadChunkManifest, serveChunked } from "./chunk-manifest.js";
import { parseFidPath } from "./fid-path.js";
import { setEtag } from "./needle-write.js";
import { serveRemoteVolume } from "./remote-read.js";
import { endEmpty, writeJsonError } from "./respond.js";

/** Needles larger than this are streamed rather than read whole (weed's paged read limit). */
const STREAM_THRESHOLD = 1024 * 1024;
const STREAM_CHUNK = 1024 * 1024;

const MIME_BY_EXT: Record<string, string> = {
  ".txt": "text/plain; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".xml": "text/xml; charset=utf-8",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".mp4": "video/mp4",
  ".wasm": "application/wasm",
};

function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString();
}

function notModified(req: IncomingMessage, etag: string, lastModified: number): boolean {
  const inm = req.headers["if-none-match"];
  if (inm) {
    return inm.split(",").some((t) => {
      const tag = t.trim().replace(/^W\//, "");
      return tag === "*" || tag === `"${etag}"` || tag === etag;
    });
  }
  const ims = req.headers["if-modified-since"];
  if (!ims || lastModified === 0) return false;
  const t = Date.parse(ims);
  return !Number.isNaN(t) && Math.floor(t / 1000) >= lastModified;
}

/** What the read needs: the needle (data only when small) and, for big ones, where the data is. */
interface Loaded {
  needle: Needle;
  stream?: { dataOffset: number; dataSize: number };
}

function load(
  volume: Volume,
  keyHi: number,
  keyLo: number,
  readDeleted: boolean,
  wantsWhole: boolean,
): Loaded {
  const { offset, size } = volume.locate(keyHi, keyLo, { readDeleted });
  if (size > STREAM_THRESHOLD && volume.version !== 1) {
    const meta = volume.readMeta(offset, size);
    const special = meta.needle.flags & (FLAG_COMPRESSED | FLAG_CHUNK_MANIFEST);
    if (!special && !wantsWhole) {
      if (volume.isExpired(meta.needle)) throw new VolumeError("not found", "not-found");
      return { needle: meta.needle, stream: { dataOffset: meta.dataOffset, dataSize: meta.dataSize } };
    }
  }
  const needle = volume.readAt(offset, size);
  if (volume.isExpired(needle)) throw new VolumeError("not found", "not-found");
  return { needle };
}

export async function handleRead(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://x");
  const path = parseFidPath(url.pathname);
  const readKey = ctx.guard.keys.readKey;
  if (
    readKey &&
    !(await verifyFileIdToken(readKey, tokenFromRequest(req, url.searchParams), path.volumeId, path.fid))
  ) {
    writeJsonError(req, res, 401, "wrong jwt");
    return;
  }
  let volumeId: number;
  let key: { keyHi: number; keyLo: number; cookie: number };
  try {
    volumeId = parseVolumeId(path.volumeId);
    key = parseNeedlePath(path.fid);
  } catch {
    endEmpty(res, 400);
    return;
  }
  const volume = ctx.store.findVolume(volumeId);
  if (!volume) {
    await serveRemoteVolume(ctx, req, res, url, path, volumeId);
    return;
  }
  let filename = path.filename;
  let ext = path.ext;
  const ops = imageOps(ext || ".jpg", url.searchParams);
  let loaded: Loaded;
  try {
    loaded = load(
      volume,
      key.keyHi,
      key.keyLo,
      url.searchParams.get("readDeleted") === "true",
      hasImageOps(ops),
    );
  } catch (err) {
    if (err instanceof VolumeError && (err.kind === "not-found" || err.kind === "deleted"))
      endEmpty(res, 404);
    else if (req.method === "HEAD") endEmpty(res, 500);
    else writeJsonError(req, res, 500, (err as Error).message);
    return;
  }
  const n = loaded.needle;
  // The bytes held for this response count against -concurrentDownloadLimitMB until it is done.
  const held = loaded.stream ? loaded.stream.dataSize : n.data.length;
  ctx.downloads.add(held);
  res.once("close", () => ctx.downloads.release(held));
  if (n.cookie !== key.cookie) {
    endEmpty(res, 404);
    return;
  }
  if (n.lastModified !== 0) res.setHeader("Last-Modified", httpDate(n.lastModified));
  const etag = crcEtag(n.checksum);
  setEtag(res, etag);
  if (notModified(req, etag, n.lastModified)) {
    res.writeHead(304).end();
    return;
  }
  if (n.flags & FLAG_HAS_PAIRS) {
    try {
      for (const [k, v] of Object.entries(JSON.parse(n.pairs.toString()) as Record<string, string>))
        res.setHeader(k, v);
    } catch {}
  }
  if (n.flags & FLAG_CHUNK_MANIFEST && url.searchParams.get("cm") !== "false") {
    let manifest: ChunkManifest | undefined;
    try {
      manifest = loadChunkManifest(n.data, (n.flags & FLAG_COMPRESSED) !== 0);
    } catch {
      // An unreadable manifest is served as it is stored.
    }
    if (manifest) {
      if (filename === "" && manifest.name !== "") filename = manifest.name;
      if (ext === "") ext = extname(filename);
      const mime = manifest.mime.startsWith("application/octet-stream") ? "" : manifest.mime;
      await serveChunked(
        ctx,
        req,
        res,
        manifest,
        mime || MIME_BY_EXT[ext.toLowerCase()] || "application/octet-stream",
      );
      return;
    }
  }
  if (n.name.length > 0 && filename === "") {
    filename = n.name.toString();
    if (ext === "") ext = extname(filename);
  }
  let mime = n.mime.length > 0 ? n.mime.toString() : "";
  if (mime.startsWith("application/octet-stream")) mime = "";
  const contentType = mime || MIME_BY_EXT[ext.toLowerCase()] || "application/octet-stream";
  res.setHeader("Content-Type", contentType);
  res.setHeader("Accept-Ranges", "bytes");
  if (filename) {
    const dl = url.searchParams.get("dl");
    const disposition = dl === "true" || dl === "1" ? "attachment" : "inline";
    res.setHeader("Content-Disposition", `${disposition}; filename="${filename.replaceAll('"', '\\"')}"`);
  }

  if (loaded.stream) {
    await streamData(volume, n, loaded.stream, req, res);
    return;
  }
  let body = n.data;
  const transforms = imageOps(ext, url.searchParams);
  if (n.flags & FLAG_COMPRESSED) {
    if (hasImageOps(transforms)) {
      try {
        body = gunzipSync(body);
      } catch {}
    } else if (
      (req.headers["accept-encoding"] ?? "").includes("gzip") &&
      body[0] === 0x1f &&
      body[1] === 0x8b
    ) {
      res.setHeader("Content-Encoding", "gzip");
    } else {
      try {
        body = gunzipSync(body);
      } catch {}
    }
  }
  if (hasImageOps(transforms)) body = await transformImage(body, ext, transforms);
  res.setHeader("Content-Length", body.length);
  res.writeHead(200);
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

/** Streams a large needle's data in 1 MiB pieces, checking its CRC-32C as it goes. */
async function streamData(
  volume: Volume,
  n: Needle,
  where: { dataOffset: number; dataSize: number },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  res.setHeader("Content-Length", where.dataSize);
  res.writeHead(200);
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  let crc = 0;
  let sent = 0;
  while (sent < where.dataSize && !res.destroyed) {
    const length = Math.min(STREAM_CHUNK, where.dataSize - sent);
    // A fresh buffer each time: the socket may still hold the previous one.
    const chunk = Buffer.allocUnsafe(length);
    const got = await volume.readDataAsync(where.dataOffset + sent, chunk, length);
    if (got !== length) {
      res.destroy(new Error(`short read of needle data at ${sent}`));
      return;
    }
    crc = needleCrc(chunk, crc);
    sent += length;
    if (sent === where.dataSize && crc !== n.checksum && maskedCrc(crc) !== n.checksum) {
      // Never hand out corrupted bytes as a complete file: cut the response short.
      res.destroy(new Error("needle data corrupted"));
      return;
    }
    if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
  }
  res.end();
}
