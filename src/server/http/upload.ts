// What a POST or PUT to a volume server uploads, read the way weed reads it (weed/storage/needle/
// needle_parse_upload.go ParseUpload, with the form parsing of volume_server_handlers_write.go
// PostHandler and the pair naming of needle.go CreateNeedleFromRequest). The result is plain data;
// turning it into a needle is the write handler's and the storage engine's job.
//
// Every failure is an UploadError with the status and message weed answers with (`{"error": ...}`):
// weed answers 400 for all of them, including a file over the size limit.

import type { IncomingMessage } from "node:http";
import { extOf, mimeByExtension, parseGoBool, sniffContentType } from "./content-type.js";
import { ByteQueue, RequestBody } from "./upload-body.js";
import {
  compressibility,
  gzipIfSmaller,
  looksGzipped,
  md5Base64,
  measureGunzip,
  pairsJson,
} from "./upload-encoding.js";
import { byteStringToText, canonicalHeaderKey, formValue, parseUint64Lenient } from "./upload-go.js";
import { header, OCTET_STREAM, readForm, readMultipart, readRaw } from "./upload-read.js";

export interface ParsedUpload {
  /** The bytes to store: gzipped when isGzipped. */
  data: Buffer;
  /** "" when none; for a raw body without a Content-Disposition name, the URL path's last element. */
  fileName: string;
  /** "" when none. */
  mimeType: string;
  /** data is gzip (sent with Content-Encoding: gzip, or gzipped here because weed would). */
  isGzipped: boolean;
  /** The size of the content before any gzip (weed's upload result `size`). */
  originalDataSize: number;
  /** Unix seconds from `ts`; 0 when none or malformed (weed then stamps the write time). */
  modifiedTime: number;
  /** The `ttl` form value as sent, "" when none. weed ignores one it cannot parse (no TTL). */
  ttl: string;
  /** Seaweed-* request headers, the prefix cut off: "Seaweed-Foo-Bar: x" is { "Foo-Bar": "x" }. */
  pairs: Record<string, string>;
  /** The pairs' JSON as weed stores it; undefined when none or too large to store (65535+ bytes). */
  pairsJson: Buffer | undefined;
  /** `cm` is a true Go bool: the data is a chunk manifest. */
  isChunkManifest: boolean;
  /** base64 MD5 of the content, set (and checked) only when the request sent one; "" otherwise. */
  contentMd5: string;
  /** weed's form value `type` is "replicate" (query, url-encoded body or a multipart field). */
  replicate: boolean;
  /** weed's form value `fsync` is "true" (query, url-encoded body or a multipart field). */
  fsync: boolean;
  /** The pooled buffer the body was read into, if any: given back once the request is done. */
  pooledBody: Buffer | undefined;
}

export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "UploadError";
  }
}

export interface UploadOptions {
  /** weed's -fileSizeLimitMB in bytes: a file of more bytes is refused. */
  fileSizeLimitBytes: number;
}

const PAIR_PREFIX = "Seaweed-";

/** Parses an upload; throws UploadError. Reads the request body (the rest is drained on failure). */
export async function parseUpload(req: IncomingMessage, options: UploadOptions): Promise<ParsedUpload> {
  const body = new RequestBody(req);
  try {
    return await parse(req, new ByteQueue(body), options.fileSizeLimitBytes);
  } catch (err) {
    if (err instanceof UploadError) throw err;
    throw new UploadError(400, (err as Error).message);
  } finally {
    body.release();
  }
}

async function parse(req: IncomingMessage, queue: ByteQueue, limit: number): Promise<ParsedUpload> {
  const target = splitTarget(req.url ?? "/");
  const form = await readForm(req, queue, target.query);
  const pairs = pairsOf(req);
  const contentType = header(req, "content-type");
  const multipart = req.method === "POST" && (contentType === "" || contentType.includes("form-data"));
  const body = multipart
    ? await readMultipart(queue, contentType, form, limit)
    : await readRaw(req, queue, target.path, contentType, limit);

  const isChunkManifest = parseGoBool(formValue(form, "cm"));
  const replicate = formValue(form, "type") === "replicate";
  let mimeType = body.mimeType;
  if (replicate) mimeType = body.contentType;
  else if (!isChunkManifest) mimeType = chooseMime(body.fileName, body.contentType, mimeType);

  let data = body.data;
  let isGzipped = body.isGzipped;
  let originalDataSize = data.length;
  const expectedMd5 = header(req, "content-md5") || body.partMd5;
  let contentMd5 = "";
  if (isGzipped) {
    // The size (and MD5) are of the inflated content, when it inflates; else of the bytes sent.
    const inflated = looksGzipped(data) ? await measureGunzip(data, expectedMd5 !== "") : undefined;
    if (inflated) originalDataSize = inflated.size;
    if (expectedMd5) contentMd5 = inflated ? inflated.md5 : md5Base64(data);
  } else if (expectedMd5) {
    contentMd5 = md5Base64(data);
  }
  if (expectedMd5 && expectedMd5 !== contentMd5) {
    throw new UploadError(
      400,
      `Content-MD5 did not match md5 of file data expected [${expectedMd5}] received [${contentMd5}] size ${originalDataSize}`,
    );
  }
  if (!isGzipped && !replicate) {
    // weed gzips what it is sure compresses (by extension, or the type sent or sniffed). Replicas
    // keep the compression the first server chose.
    let sniffed = mimeType || sniffContentType(data);
    if (sniffed === OCTET_STREAM) sniffed = "";
    const { compress, sure } = compressibility(extOf(body.fileName), sniffed);
    const zipped = compress && sure ? await gzipIfSmaller(data) : undefined;
    if (zipped) {
      data = zipped;
      isGzipped = true;
    }
  }

  return {
    data,
    fileName: byteStringToText(body.fileName),
    mimeType: byteStringToText(mimeType),
    isGzipped,
    originalDataSize,
    modifiedTime: unixSeconds(parseUint64Lenient(formValue(form, "ts"))),
    ttl: formValue(form, "ttl"),
    pairs,
    pairsJson: pairsJson(pairs),
    isChunkManifest,
    contentMd5,
    replicate,
    fsync: formValue(form, "fsync") === "true",
    pooledBody: body.pooled,
  };
}

/**
 * The mime weed keeps: the sent type unless it is empty, octet-stream, or what the name's extension
 * says anyway; else the extension's type if there is one (and none was set yet).
 */
function chooseMime(fileName: string, contentType: string, current: string): string {
  const dot = fileName.lastIndexOf(".");
  const byExt = dot > 0 ? mimeByExtension(fileName.slice(dot).toLowerCase()) : "";
  if (contentType !== "" && contentType !== OCTET_STREAM && byExt !== contentType) return contentType;
  if (byExt !== "" && current === "" && byExt !== OCTET_STREAM) return byExt;
  return current;
}

/** Go keeps a uint64; the needle keeps its low 5 bytes. Past 2^53, keep those bytes and non-zero-ness. */
function unixSeconds(ts: bigint): number {
  if (ts <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(ts);
  return Number(BigInt.asUintN(40, ts)) + 2 ** 40;
}

/** The request target's path (percent-decoded, as Go's URL.Path) and raw query. */
function splitTarget(url: string): { path: string; query: string } {
  if (!url.startsWith("/")) {
    try {
      const u = new URL(url);
      url = u.pathname + u.search;
    } catch {
      // Not absolute either: take it as it is.
    }
  }
  const q = url.indexOf("?");
  // Node gives the target's bytes one char each; %XX becomes its byte the same way.
  const path = (q < 0 ? url : url.slice(0, q)).replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  return { path, query: q < 0 ? "" : url.slice(q + 1) };
}

/** Seaweed-* headers by their canonical name, prefix cut, first value each. */
function pairsOf(req: IncomingMessage): Record<string, string> {
  const pairs: Record<string, string> = Object.create(null);
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length < PAIR_PREFIX.length || name.slice(0, PAIR_PREFIX.length).toLowerCase() !== "seaweed-")
      continue;
    const key = canonicalHeaderKey(name).slice(PAIR_PREFIX.length);
    if (!(key in pairs)) pairs[key] = byteStringToText(raw[i + 1]!);
  }
  return pairs;
}
