// GET/HEAD /<fid>: serve a needle as weed's GetOrHeadHandler does: JWT, path, cookie check, ETag
// and Last-Modified with conditional requests, pair headers, chunk manifests, gzip-stored needles
// (sent compressed only to clients that accept gzip), image transforms, then the content with
// ranges, type and overrides (needle-read-content). Like weed, a read takes only the needle's
// metadata when its data can stream from disk (large needles, GET with a Range) and reads the data
// whole otherwise; streamed data is checked against the needle's checksum before it counts as
// served (needle-read-data).

import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { hasImageOps, type ImageOps, imageOps, transformImage } from "../../images/transform.js";
import { tokenFromRequest, verifyFileIdToken } from "../../security/jwt.js";
import { parseNeedlePath, parseVolumeId } from "../../storage/needle/file-id.js";
import {
  FLAG_CHUNK_MANIFEST,
  FLAG_COMPRESSED,
  FLAG_HAS_PAIRS,
  type Needle,
  newNeedle,
} from "../../storage/needle/needle.js";
import { type Volume, VolumeError } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { type ChunkManifest, loadChunkManifest } from "./chunk-manifest.js";
import { checkConditional, httpDate, needleEtag } from "./conditional.js";
import { extOf, headerValue, parseReadQuery, type ReadQuery } from "./content-type.js";
import { type FidPath, isPlainPath, parseFidPath } from "./fid-path.js";
import { chunkedSource } from "./needle-read-chunked.js";
import {
  bufferSource,
  type ContentSource,
  firstHeader,
  readAll,
  writeResponseContent,
} from "./needle-read-content.js";
import { NeedleData, PAGED_READ_LIMIT } from "./needle-read-data.js";
import { serveEcRead } from "./needle-read-ec.js";
import { serveRemoteVolume } from "./remote-read.js";
import { writeJsonError } from "./respond.js";

const NO_BYTES = new Uint8Array(0);
// Off the event loop: a gzip-stored needle may be large.
const gunzipAsync = promisify(gunzip);

/**
 * Go's url.PathUnescape of the request path, as a latin-1 byte string (one character per byte, so
 * the "/", "," and "." weed splits on stay where they are); undefined for a bad %-escape, which Go
 * refuses before any handler runs.
 */
function unescapePath(p: string): string | undefined {
  if (!p.includes("%")) return p;
  const bytes = Buffer.allocUnsafe(p.length);
  let n = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c !== 0x25) {
      bytes[n++] = c;
      continue;
    }
    const hex = p.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
    bytes[n++] = Number.parseInt(hex, 16);
    i += 2;
  }
  return bytes.toString("latin1", 0, n);
}

const NO_IMAGE_OPS: ImageOps = {};
const NO_QUERY = new URLSearchParams();

/** The image transforms a read asks for: only ever in its query, so most reads skip the lookups. */
function imageOpsOf(ext: string, query: URLSearchParams): ImageOps {
  return query.size === 0 ? NO_IMAGE_OPS : imageOps(ext, query);
}

/** A status with no body: Go sends Content-Length: 0 on a GET and nothing on a HEAD. */
export function endStatus(req: IncomingMessage, res: ServerResponse, status: number): void {
  if (req.method !== "HEAD") res.setHeader("Content-Length", 0);
  res.writeHead(status).end();
}

/** weed's InternalError: a JSON error, or just the status for a HEAD. */
export function internalError(req: IncomingMessage, res: ServerResponse, message: string): void {
  if (req.method === "HEAD") endStatus(req, res, 500);
  else writeJsonError(req, res, 500, message);
}

/**
 * Whether a read may take only the metadata first (weed's shouldAttemptStreamWrite and readNeedle):
 * never for a transform named by the URL's extension (its result needs the data); for large needles;
 * and for any GET with a Range, unless the URL has no extension and asks for a transform (the
 * stored name may make it an image).
 */
function metaOnlyFirst(
  req: IncomingMessage,
  query: URLSearchParams,
  urlExt: string,
  size: number,
  volume: Volume,
): boolean {
  if (volume.version === 1 || hasImageOps(imageOpsOf(urlExt, query))) return false;
  if (size > PAGED_READ_LIMIT) return true;
  if (req.method === "HEAD") return false;
  if (urlExt === "" && hasImageOps(imageOpsOf(".jpg", query))) return false;
  return !!firstHeader(req, "range");
}

/** The needle, and where its data is when only the metadata was read. */
export interface Loaded {
  needle: Needle;
  data?: { offset: number; size: number };
}

function load(volume: Volume, offset: number, size: number, metaFirst: boolean): Loaded {
  if (metaFirst) {
    const meta = volume.readMeta(offset, size);
    // Compressed data and manifests are needed whole whatever the request.
    if ((meta.needle.flags & (FLAG_COMPRESSED | FLAG_CHUNK_MANIFEST)) === 0)
      return { needle: meta.needle, data: { offset: meta.dataOffset, size: meta.dataSize } };
  }
  return { needle: volume.readAt(offset, size) };
}

/** Go's json.Unmarshal into map[string]string: a value of another type becomes "". */
function setPairHeaders(res: ServerResponse, pairs: Buffer): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(pairs.toString("utf8"));
  } catch {
    return;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return;
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const text = typeof value === "string" ? value : "";
    try {
      // Go writes the UTF-8 bytes; Node writes header strings as latin-1 bytes.
      res.setHeader(name, headerValue(Buffer.from(text, "utf8").toString("latin1")));
    } catch {
      // A name Node refuses to send (not a token) is left out.
    }
  }
}

export async function handleRead(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const rawUrl = req.url ?? "/";
  // Most reads are a bare /vid,fid: WHATWG URL parsing would return it unchanged, so it is skipped.
  const url = isPlainPath(rawUrl) ? undefined : new URL(rawUrl, "http://x");
  const query = url ? url.searchParams : NO_QUERY;
  const decoded = url ? unescapePath(url.pathname) : rawUrl;
  if (decoded === undefined) {
    endStatus(req, res, 400);
    return;
  }
  const path = parseFidPath(decoded);
  const readKey = ctx.guard.keys.readKey;
  if (readKey && !(await verifyFileIdToken(readKey, tokenFromRequest(req, query), path.volumeId, path.fid))) {
    writeJsonError(req, res, 401, "wrong jwt");
    return;
  }
  let volumeId: number;
  let key: { keyHi: number; keyLo: number; cookie: number };
  try {
    volumeId = parseVolumeId(path.volumeId);
    key = parseNeedlePath(path.fid);
  } catch {
    endStatus(req, res, 400);
    return;
  }
  const volume = ctx.store.findVolume(volumeId);
  if (!volume) {
    if (await serveEcRead(ctx, req, res, { query, rawUrl, path, cookie: key.cookie }, volumeId, key)) return;
    await serveRemoteVolume(ctx, req, res, url ?? new URL(rawUrl, "http://x"), path, volumeId);
    return;
  }

  let loaded: Loaded;
  try {
    const { offset, size } = volume.locate(key.keyHi, key.keyLo, {
      readDeleted: query.get("readDeleted") === "true",
    });
    if (size === 0) {
      // weed reads nothing for an empty record: the needle is just what the path says.
      loaded = { needle: newNeedle({ keyHi: key.keyHi, keyLo: key.keyLo, cookie: key.cookie }) };
    } else {
      // The needle's size counts against -concurrentDownloadLimitMB until the response is done.
      ctx.downloads.add(size);
      res.once("close", () => ctx.downloads.release(size));
      loaded = load(volume, offset, size, metaOnlyFirst(req, query, path.ext, size, volume));
      if (volume.isExpired(loaded.needle)) throw new VolumeError("not found", "not-found");
    }
  } catch (err) {
    if (err instanceof VolumeError && (err.kind === "not-found" || err.kind === "deleted"))
      endStatus(req, res, 404);
    else internalError(req, res, (err as Error).message);
    return;
  }
  await serveNeedle(ctx, req, res, { query, rawUrl, path, cookie: key.cookie }, loaded, volume);
}

/** What serveNeedle needs of the request beyond the needle. */
export interface ReadTarget {
  query: URLSearchParams;
  rawUrl: string;
  path: FidPath;
  cookie: number;
}

/** Answers a read with a loaded needle: cookie, conditional headers, manifest, content. */
export async function serveNeedle(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  { query, rawUrl, path, cookie }: ReadTarget,
  loaded: Loaded,
  volume?: Volume,
): Promise<void> {
  const q = rawUrl.indexOf("?");
  const n = loaded.needle;
  if (n.cookie !== cookie) {
    endStatus(req, res, 404);
    return;
  }
  if (n.lastModified !== 0) res.setHeader("Last-Modified", httpDate(n.lastModified));
  const etag = needleEtag(n.checksum);
  res.setHeader("ETag", etag);
  if (checkConditional(req.headers, etag, n.lastModified) === "not-modified") {
    res.writeHead(304).end();
    return;
  }
  if (n.flags & FLAG_HAS_PAIRS) setPairHeaders(res, n.pairs);
  const readQuery = parseReadQuery(q < 0 ? "" : rawUrl.slice(q + 1));

  if (n.flags & FLAG_CHUNK_MANIFEST && query.get("cm") !== "false") {
    let manifest: ChunkManifest | undefined;
    try {
      manifest = loadChunkManifest(n.data, (n.flags & FLAG_COMPRESSED) !== 0);
    } catch {
      // An unreadable manifest is served as it is stored.
    }
    if (manifest) {
      await serveManifest(ctx, req, res, path, manifest, query, readQuery);
      return;
    }
  }

  // The file name (URL, else stored) decides the type and the disposition; the URL's ".ext" of
  // /vid,fid.ext only picks image transforms.
  let filename: Uint8Array = path.filename === "" ? NO_BYTES : Buffer.from(path.filename, "latin1");
  let ext = path.ext;
  if (n.name.length > 0 && filename.length === 0) {
    filename = n.name;
    if (ext === "") ext = extOf(n.name.toString("latin1"));
  }
  const storedMime = n.mime.toString("latin1");
  const meta = { storedMime, filename, query: readQuery };

  if (loaded.data && volume) {
    const page = Math.max(1, ctx.options.readBufferSizeMB) * 1024 * 1024;
    const source = new NeedleData(volume, n, loaded.data.offset, loaded.data.size, page);
    await writeResponseContent(req, res, source, meta);
    return;
  }
  let body: Buffer = n.data;
  const transforms = imageOpsOf(ext, query);
  if (n.flags & FLAG_COMPRESSED) {
    // weed compares the extension as it is here (its transforms lower-case it later).
    const forImage = hasImageOps(transforms) && ext === ext.toLowerCase();
    const gzipped = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
    if (!forImage && gzipped && (firstHeader(req, "accept-encoding") ?? "").includes("gzip")) {
      res.setHeader("Content-Encoding", "gzip");
    } else if (gzipped) {
      try {
        body = await gunzipAsync(body);
      } catch {
        // weed's failed decompression leaves no data.
        body = Buffer.alloc(0);
      }
    }
  }
  if (hasImageOps(transforms)) body = await transformImage(body, ext, transforms);
  await writeResponseContent(req, res, bufferSource(body), meta);
}

/** A chunk manifest read as the file it describes (X-File-Store: chunked). */
async function serveManifest(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: FidPath,
  manifest: ChunkManifest,
  query: URLSearchParams,
  readQuery: ReadQuery,
): Promise<void> {
  const filename =
    path.filename !== "" ? Buffer.from(path.filename, "latin1") : Buffer.from(manifest.name, "utf8");
  const ext = path.ext !== "" ? path.ext : extOf(filename.toString("latin1"));
  res.setHeader("X-File-Store", "chunked");
  let source: ContentSource = chunkedSource(ctx, manifest);
  const transforms = imageOpsOf(ext, query);
  if (hasImageOps(transforms)) {
    try {
      source = bufferSource(await transformImage(await readAll(source), ext, transforms));
    } catch (err) {
      internalError(req, res, (err as Error).message);
      return;
    }
  }
  await writeResponseContent(req, res, source, { storedMime: manifest.mime, filename, query: readQuery });
}
