// Reading an upload's body as weed does: Go's form parsing first (query and url-encoded body), then
// either the whole body (raw) or the multipart parts, keeping the first file part and the `type` and
// `fsync` control fields. Failures are GoErrors carrying Go's message; the caller answers 400.

import type { IncomingMessage } from "node:http";
import { firstHeader } from "./needle-read-content.js";
import { takeReadBuffer } from "./read-buffers.js";
import type { ByteQueue } from "./upload-body.js";
import {
  type FormValues,
  GoError,
  MediaTypeError,
  parseMediaType,
  parseQueryInto,
  pathBase,
} from "./upload-go.js";
import { MultipartReader, type Part } from "./upload-multipart.js";

export const OCTET_STREAM = "application/octet-stream";
const MAX_FORM_BYTES = 10 << 20;
/** Bodies of at least this many bytes that arrive in pieces are joined into a pooled buffer. */
const POOLED_BODY_BYTES = 64 * 1024; // Go's cap on an application/x-www-form-urlencoded body
/** A control field is only compared with "replicate" or "true": weed keeps this many bytes of it. */
const CONTROL_FIELD_BYTES = "replicate".length + 1;
/**
 * `ts` and `ttl` may also come as multipart fields (the query wins). weed's own handler cannot see
 * them there (its form is parsed before the body); SeaweedFS's suite asks for them of
 * non-Go servers, and a client sending them means them.
 */
const VALUE_FIELD_BYTES = 64;

function controlFieldBytes(name: string): number {
  if (name === "type" || name === "fsync") return CONTROL_FIELD_BYTES;
  if (name === "ts" || name === "ttl") return VALUE_FIELD_BYTES;
  return 0;
}

/** The first value of a request header (Go's Header.Get), as a byte string; "" when absent. */
export function header(req: IncomingMessage, name: string): string {
  return firstHeader(req, name) ?? "";
}

/** What the body gave, before the shared rules run. Strings are byte strings (see upload-go.ts). */
export interface Body {
  data: Buffer;
  fileName: string;
  /** The Content-Type the mime rules look at: the request's, or the file part's. */
  contentType: string;
  /** A raw body starts with the request's Content-Type as its mime; a multipart one with none. */
  mimeType: string;
  isGzipped: boolean;
  /** The file part's own Content-MD5 header (multipart only). */
  partMd5: string;
  /** data's buffer when it came from the read-buffer pool: given back once the request is done. */
  pooled: Buffer | undefined;
}

/**
 * Go's Request.ParseForm as weed's handler calls it first: an url-encoded POST/PUT body (read whole,
 * 10 MiB at most) and then the query; its first error is the 400's message.
 */
export async function readForm(req: IncomingMessage, queue: ByteQueue, query: string): Promise<FormValues> {
  const form: FormValues = new Map();
  let error: string | undefined;
  if (req.method === "POST" || req.method === "PUT" || req.method === "PATCH") {
    let type = "";
    try {
      type = parseMediaType(header(req, "content-type") || OCTET_STREAM).type;
    } catch (err) {
      error = (err as Error).message;
      if (err instanceof MediaTypeError) type = err.type; // Go still knows the type then
    }
    if (type === "application/x-www-form-urlencoded") {
      await queue.fill(MAX_FORM_BYTES + 1);
      if (queue.length > MAX_FORM_BYTES) throw new GoError("http: POST too large");
      const text = queue.takeBytes(queue.length).toString("latin1");
      const bodyError = parseQueryInto(form, text);
      error ??= bodyError;
    }
  }
  const queryError = parseQueryInto(form, query);
  error ??= queryError;
  if (error !== undefined) throw new GoError(error);
  return form;
}

/** Collects part or body bytes, refusing more than `limit` (Go reads limit+1 to tell). */
class Collector {
  private views: Buffer[] = [];
  private total = 0;
  over = false;

  constructor(private readonly limit: number) {}

  readonly add = (view: Buffer): boolean => {
    this.views.push(view);
    this.total += view.length;
    if (this.total > this.limit) this.over = true;
    return !this.over;
  };

  /** The bytes, joined once (into a pooled buffer); throws weed's error when over the limit. */
  result(): Buffer {
    if (this.over) throw new GoError(`file over the limited ${this.limit} bytes`);
    let data: Buffer;
    if (this.views.length === 1) data = this.views[0]!;
    else if (this.total < POOLED_BODY_BYTES) data = Buffer.concat(this.views, this.total);
    else {
      data = takeReadBuffer(this.total);
      let at = 0;
      for (const v of this.views) at += v.copy(data, at);
      this.pooled = data;
    }
    this.views = [];
    return data;
  }

  /** The result, when it is a pooled buffer the caller must hand back (giveReadBuffer). */
  pooled: Buffer | undefined;
}

export async function readRaw(
  req: IncomingMessage,
  queue: ByteQueue,
  urlPath: string,
  contentType: string,
  limit: number,
): Promise<Body> {
  let fileName = "";
  let disposition = header(req, "content-disposition");
  if (disposition.includes("name=")) {
    if (!disposition.startsWith("inline") && !disposition.startsWith("attachment")) {
      disposition = `attachment; ${disposition}`;
    }
    try {
      const { params } = parseMediaType(disposition);
      fileName = params.get("filename") ?? params.get("name") ?? "";
    } catch {
      // weed ignores a disposition it cannot parse.
    }
  }
  fileName = fileName !== "" ? cleanWindowsBase(fileName) : pathBase(urlPath);

  // A declared length over the limit fails the same way without holding any of it.
  const declared = Number(header(req, "content-length") || "0");
  const collector = new Collector(limit);
  if (declared > limit) collector.over = true;
  while (!collector.over) {
    if (queue.length > 0) for (const view of queue.take(queue.length)) collector.add(view);
    else if (!(await queue.pull())) break;
  }
  return {
    data: collector.result(),
    pooled: collector.pooled,
    fileName,
    contentType,
    mimeType: contentType,
    isGzipped: header(req, "content-encoding") === "gzip",
    partMd5: "",
  };
}

/** weed's CleanWindowsPathBase: backslashes as slashes, then the last element. */
function cleanWindowsBase(name: string): string {
  return pathBase(name.replaceAll("\\", "/"));
}

export async function readMultipart(
  queue: ByteQueue,
  contentType: string,
  form: FormValues,
  limit: number,
): Promise<Body> {
  const reader = new MultipartReader(queue, boundaryOf(contentType));
  const saveControlField = (name: string, value: Buffer): void => {
    const keep = controlFieldBytes(name);
    if (keep > 0 && !form.get(name)?.length) form.set(name, [value.subarray(0, keep).toString("latin1")]);
  };

  const part = await reader.nextPart();
  if (!part) throw new GoError("EOF");
  let fileName = part.fileName() === "" ? "" : cleanWindowsBase(part.fileName());
  let collector = new Collector(limit);
  await part.read(collector.add);
  let data = collector.result();
  if (part.fileName() === "") saveControlField(part.formName(), data);
  let filePart = part;

  // The first part is the data unless a later part is a file; control fields count wherever they are.
  for (;;) {
    let next: Part | undefined;
    try {
      next = await reader.nextPart();
    } catch {
      break; // weed stops looking at the first malformed part and keeps what it has
    }
    if (!next) break;
    const partFileName = next.fileName();
    if (fileName === "" && partFileName !== "") {
      collector = new Collector(limit);
      await next.read(collector.add);
      data = collector.result();
      fileName = cleanWindowsBase(partFileName);
      filePart = next;
    } else if (partFileName === "" && controlFieldBytes(next.formName()) > 0) {
      saveControlField(next.formName(), await readPrefix(next, controlFieldBytes(next.formName())));
    }
  }
  return {
    data,
    fileName,
    contentType: filePart.get("Content-Type"),
    mimeType: "",
    isGzipped: filePart.get("Content-Encoding") === "gzip",
    partMd5: filePart.get("Content-MD5"),
    pooled: collector.pooled,
  };
}

/** The first n bytes of a part (fewer if it is shorter); the rest is left unread. */
async function readPrefix(part: Part, n: number): Promise<Buffer> {
  const views: Buffer[] = [];
  let got = 0;
  await part.read((view) => {
    views.push(view.subarray(0, n - got));
    got += Math.min(view.length, n - got);
    return got < n;
  });
  return Buffer.concat(views);
}

/** The boundary of a multipart Content-Type, or Go's error for a type that is not multipart. */
function boundaryOf(contentType: string): string {
  if (contentType === "") throw new GoError("request Content-Type isn't multipart/form-data");
  let parsed: ReturnType<typeof parseMediaType>;
  try {
    parsed = parseMediaType(contentType);
  } catch {
    throw new GoError("request Content-Type isn't multipart/form-data");
  }
  if (parsed.type !== "multipart/form-data" && parsed.type !== "multipart/mixed") {
    throw new GoError("request Content-Type isn't multipart/form-data");
  }
  const boundary = parsed.params.get("boundary");
  if (boundary === undefined) throw new GoError("no multipart boundary param in Content-Type");
  return boundary;
}
