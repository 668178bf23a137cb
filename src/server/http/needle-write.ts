// POST/PUT /<fid>: store an upload as a needle, as weed's PostHandler. The upload is parsed into a
// needle, written to the local volume, and answered with weed's UploadResult JSON.

import type { IncomingMessage, ServerResponse } from "node:http";
import { type ReplicaTarget, remoteReplicas, replicateWrite } from "../../cluster/replicate.js";
import { fixJpgOrientation, isJpegUpload } from "../../images/orientation.js";
import { tokenFromRequest, verifyFileIdToken } from "../../security/jwt.js";
import { crcEtag, needleCrc } from "../../storage/needle/crc.js";
import { parseNeedlePath, parseVolumeId } from "../../storage/needle/file-id.js";
import {
  FLAG_CHUNK_MANIFEST,
  FLAG_COMPRESSED,
  FLAG_HAS_LAST_MODIFIED,
  FLAG_HAS_MIME,
  FLAG_HAS_NAME,
  FLAG_HAS_PAIRS,
  FLAG_HAS_TTL,
  newNeedle,
} from "../../storage/needle/needle.js";
import { formatTtl, isEmptyTtl, parseTtl } from "../../storage/needle/ttl.js";
import { VolumeError } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { type FidPath, isPlainPath, parseFidPath } from "./fid-path.js";
import { giveReadBuffer } from "./read-buffers.js";
import { writeJson, writeJsonError } from "./respond.js";
import { type ParsedUpload, parseUpload, UploadError } from "./upload.js";
import { parseQueryInto } from "./upload-go.js";

const EMPTY_QUERY = new URLSearchParams();

export function setEtag(res: ServerResponse, etag: string): void {
  if (etag) res.setHeader("ETag", etag.startsWith('"') ? etag : `"${etag}"`);
}

/** weed's write JWT check (writes and deletes): false when allowed, else answers 401 "wrong jwt". */
export async function refusedWriteToken(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  path: FidPath,
): Promise<boolean> {
  const writeKey = ctx.guard.keys.writeKey;
  if (!writeKey || (await verifyFileIdToken(writeKey, tokenFromRequest(req, query), path.volumeId, path.fid)))
    return false;
  writeJsonError(req, res, 401, "wrong jwt");
  return true;
}

export async function handleWrite(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const rawUrl = req.url ?? "";
  // Most writes are a bare /vid,fid, which WHATWG URL parsing would return unchanged.
  const url = isPlainPath(rawUrl)
    ? { pathname: rawUrl, searchParams: EMPTY_QUERY }
    : new URL(rawUrl, "http://x");
  // weed parses the form before anything else: a malformed query is a 400 even without a token.
  const queryAt = rawUrl.indexOf("?");
  const queryError = queryAt < 0 ? undefined : parseQueryInto(new Map(), rawUrl.slice(queryAt + 1));
  if (queryError !== undefined) {
    writeJsonError(req, res, 400, queryError);
    return;
  }
  const path = parseFidPath(url.pathname);
  let volumeId: number;
  try {
    volumeId = parseVolumeId(path.volumeId);
  } catch (err) {
    writeJsonError(req, res, 400, (err as Error).message);
    return;
  }
  if (await refusedWriteToken(ctx, req, res, url.searchParams, path)) return;

  let upload: ParsedUpload;
  try {
    upload = await parseUpload(req, { fileSizeLimitBytes: ctx.options.fileSizeLimitMB * 1024 * 1024 });
  } catch (err) {
    if (err instanceof UploadError) writeJsonError(req, res, err.status, err.message);
    else writeJsonError(req, res, 400, (err as Error).message);
    return;
  }

  try {
    await storeUpload(ctx, req, res, url, path, volumeId, upload);
  } finally {
    // Written, replicated and answered: nothing holds the body's bytes any more.
    if (upload.pooledBody) giveReadBuffer(upload.pooledBody);
  }
}

/** The parsed upload as a needle: stored here and on the other replicas, then answered. */
async function storeUpload(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: { pathname: string; searchParams: URLSearchParams },
  path: FidPath,
  volumeId: number,
  upload: ParsedUpload,
): Promise<void> {
  let data = upload.data;
  if (ctx.options.fixJpgOrientation && isJpegUpload(upload.mimeType, upload.fileName))
    data = await fixJpgOrientation(data);
  const n = newNeedle({ data });
  if (Buffer.byteLength(upload.fileName) < 256) {
    n.name = Buffer.from(upload.fileName);
    n.flags |= FLAG_HAS_NAME;
  }
  if (Buffer.byteLength(upload.mimeType) < 256) {
    n.mime = Buffer.from(upload.mimeType);
    n.flags |= FLAG_HAS_MIME;
  }
  if (upload.pairsJson) {
    n.pairs = upload.pairsJson;
    n.flags |= FLAG_HAS_PAIRS;
  }
  if (upload.isGzipped) n.flags |= FLAG_COMPRESSED;
  n.lastModified = upload.modifiedTime || Math.floor(Date.now() / 1000);
  n.flags |= FLAG_HAS_LAST_MODIFIED;
  try {
    n.ttl = parseTtl(upload.ttl);
  } catch {
    // weed stores a needle whose ttl does not parse without one.
  }
  if (!isEmptyTtl(n.ttl)) n.flags |= FLAG_HAS_TTL;
  if (upload.isChunkManifest) n.flags |= FLAG_CHUNK_MANIFEST;
  try {
    const key = parseNeedlePath(path.fid);
    n.keyHi = key.keyHi;
    n.keyLo = key.keyLo;
    n.cookie = key.cookie;
  } catch (err) {
    writeJsonError(req, res, 400, (err as Error).message);
    return;
  }

  const volume = ctx.store.findVolume(volumeId);
  const self = `${ctx.options.ip}:${ctx.options.port}`;
  const fsync = upload.fsync;
  let remotes: ReplicaTarget[] = [];
  if (!upload.replicate) {
    try {
      remotes = await remoteReplicas(ctx.lookup, volumeId, volume, self, true);
    } catch (err) {
      writeJsonError(req, res, 500, (err as Error).message);
      return;
    }
  }
  if (!volume && remotes.length === 0) {
    writeJsonError(req, res, 500, `volume ${volumeId} not found on ${self}`);
    return;
  }
  if (ctx.stateFile.maintenance) {
    writeJsonError(req, res, 500, `volume server ${ctx.options.id} is in maintenance mode`);
    return;
  }
  // The replicas are written while the local write runs; the answer waits for both.
  const replicaTtl = isEmptyTtl(n.ttl) && volume ? volume.superBlock.ttl : n.ttl;
  const replication =
    remotes.length === 0
      ? Promise.resolve()
      : replicateWrite(remotes, url.pathname, {
          data: n.data,
          fileName: n.flags & FLAG_HAS_NAME ? n.name.toString() : "",
          mimeType: n.mime.toString(),
          isCompressed: (n.flags & FLAG_COMPRESSED) !== 0,
          pairs: upload.pairs,
          ttl: formatTtl(replicaTtl),
          lastModified: n.lastModified,
          isChunkManifest: upload.isChunkManifest,
          contentMd5: upload.contentMd5,
          fsync,
          jwt: tokenFromRequest(req, url.searchParams),
        }).catch((err: Error) => {
          throw new Error(`failed to write to replicas for volume ${volumeId}: ${err.message}`);
        });
  replication.catch(() => undefined);
  let unchanged = false;
  let localError: Error | undefined;
  try {
    if (volume) unchanged = (await volume.writeQueued(n, { fsync })).unchanged;
  } catch (err) {
    localError = err as Error;
  }
  const remoteError = await replication.then(
    () => undefined,
    (err: Error) => err,
  );
  if (localError || remoteError) {
    // weed reports the local failure first, prefixed as its ReplicatedWrite does.
    const readOnly = localError instanceof VolumeError && localError.kind === "read-only";
    let message = localError ? `failed to write to local disk: ${localError.message}` : remoteError!.message;
    // Tell the client nothing was appended, so it may retry elsewhere safely (weed's header).
    if (readOnly && remotes.length === 0 && !upload.fsync && !upload.replicate) {
      res.setHeader("X-Seaweed-Write-Outcome", "refused-before-append");
      message = `write refused before append: ${message}`;
    }
    writeJsonError(req, res, readOnly ? 409 : 500, message);
    return;
  }
  const etag = crcEtag(needleCrc(n.data));
  setEtag(res, etag);
  res.setHeader("Content-MD5", upload.contentMd5);
  if (unchanged) {
    res.writeHead(204).end();
    return;
  }
  const result: Record<string, unknown> = {};
  if (n.flags & FLAG_HAS_NAME && upload.fileName) result["name"] = upload.fileName;
  if (upload.originalDataSize) result["size"] = upload.originalDataSize;
  result["eTag"] = etag;
  if (upload.mimeType) result["mime"] = upload.mimeType;
  if (upload.contentMd5) result["contentMd5"] = upload.contentMd5;
  writeJson(req, res, 201, result);
}
