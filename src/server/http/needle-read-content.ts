// The body of a needle read once its headers are decided, as weed's writeResponseContent and
// ProcessRangeRequest send it: type and overrides, HEAD, byte ranges (planRange), sniffing when no
// type is known, and what happens when the bytes cannot be read. The bytes come from a
// ContentSource, which hands out only verified data: a range is served from checked bytes only.

import type { IncomingMessage, ServerResponse } from "node:http";
import { contentHeaders, type ReadQuery, responseMimeType, sniffContentType } from "./content-type.js";
import { planRange } from "./range.js";

/** Where the bytes of a response come from. */
export interface ContentSource {
  readonly size: number;
  /** The whole content when it is already in memory (and verified): sent without iteration. */
  readonly bytes?: Uint8Array;
  /**
   * The bytes of [start, start + length), in order. Throws (at any point) when they cannot be read
   * or fail their checksum; nothing unverified is ever yielded.
   */
  chunks(start: number, length: number): AsyncIterable<Uint8Array>;
  /** Frees what the chunks were read into; called once nothing uses them any more. */
  dispose?(): void;
  /** Takes back one chunk it yielded, once the connection is done with its bytes. */
  release?(chunk: Uint8Array): void;
}

/** Bytes already in memory (and already verified). */
export function bufferSource(data: Uint8Array): ContentSource {
  return {
    size: data.length,
    bytes: data,
    async *chunks(start, length) {
      if (length > 0) yield data.subarray(start, start + length);
    },
  };
}

/** Every byte of a source in one buffer (for image transforms, which need the whole picture). */
export async function readAll(source: ContentSource): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  try {
    for await (const c of source.chunks(0, source.size)) parts.push(c);
    return Buffer.concat(parts);
  } finally {
    source.dispose?.();
  }
}

/**
 * The first line of a request header, as Go's Header.Get reads it. Node joins repeated lines with
 * ", ", so only a value with a comma needs the raw lines (req.headersDistinct is far dearer).
 */
export function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const joined = req.headers[name];
  if (typeof joined !== "string" || !joined.includes(",")) return joined as string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === name.length && n.toLowerCase() === name) return raw[i + 1];
  }
  return joined;
}

/** Go's server sniffs at most this many leading bytes of a body sent without a Content-Type. */
const SNIFF_LEN = 512;

/** The headers a read sends, besides those already on the response (ETag, pairs, ...). */
export interface ContentMeta {
  /** The stored (or manifest) mime type, "" when none. */
  storedMime: string;
  /** The file name that decides the type and the disposition (URL or stored), raw bytes. */
  filename: Uint8Array;
  query: ReadQuery;
}

function headerText(res: ServerResponse, name: string): string | undefined {
  const v = res.getHeader(name);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : String(v);
}

/** The extension of a raw file name as text (UTF-8, as Go reads the name), without copying the name. */
function extText(name: Uint8Array): string {
  for (let i = name.length - 1; i >= 0; i--) {
    const c = name[i]!;
    if (c === 0x2f) break;
    if (c === 0x2e) return Buffer.from(name.buffer, name.byteOffset + i, name.length - i).toString("utf8");
  }
  return "";
}

/** Resolves once the response can take more bytes or has gone away. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Writes one piece with backpressure; false once the client is gone. */
async function send(
  res: ServerResponse,
  chunk: Uint8Array | string,
  source?: ContentSource,
): Promise<boolean> {
  if (res.destroyed) return false;
  const release = source?.release;
  const ok =
    typeof chunk === "string"
      ? res.write(chunk, "latin1")
      : release
        ? res.write(chunk, (err) => {
            // Flushed to the kernel: the bytes are no longer needed. After an error the
            // connection may still hold them, so they are left to the garbage collector.
            if (!err) release.call(source, chunk);
          })
        : res.write(chunk);
  if (!ok) await drained(res);
  return !res.destroyed;
}

/** Writes the rest of an iterator; false once the client is gone (the iterator is then closed). */
async function sendRest(
  res: ServerResponse,
  it: AsyncIterator<Uint8Array>,
  source: ContentSource,
): Promise<boolean> {
  for (;;) {
    const next = await it.next();
    if (next.done) return true;
    if (!(await send(res, next.value, source))) {
      await it.return?.();
      return false;
    }
  }
}

/**
 * Sets the type, Accept-Ranges, the response-* overrides and the disposition, then answers HEAD
 * with the length, or GET with the whole content, one range (206), several (multipart/byteranges),
 * 416, or an empty 200 for ranges adding up to more than the content, as weed does.
 */
export async function writeResponseContent(
  req: IncomingMessage,
  res: ServerResponse,
  source: ContentSource,
  meta: ContentMeta,
): Promise<void> {
  if (source.dispose) res.once("close", () => source.dispose!());
  const type = responseMimeType(meta.storedMime, extText(meta.filename));
  res.setHeader("Accept-Ranges", "bytes");
  for (const [name, value] of contentHeaders(
    type,
    meta.filename,
    meta.query,
    headerText(res, "content-disposition"),
  )) {
    res.setHeader(name, value);
  }
  if (req.method === "HEAD") {
    res.setHeader("Content-Length", source.size);
    res.writeHead(200).end();
    return;
  }
  const encoded = (headerText(res, "content-encoding") ?? "") !== "";
  const plan = planRange(
    {
      range: firstHeader(req, "range"),
      ifRange: firstHeader(req, "if-range"),
      etag: headerText(res, "etag"),
      lastModified: headerText(res, "last-modified"),
    },
    source.size,
    type,
    encoded,
  );
  for (const name in plan.headers) res.setHeader(name, plan.headers[name]!);
  if (plan.status === 416) {
    // As bytes: Node writes a string body sent with the headers in one UTF-8 write, which would
    // re-encode header bytes past 0x7f (pair values).
    res.writeHead(416).end(Buffer.from(plan.body ?? "", "latin1"));
    return;
  }
  const first = plan.ranges[0];
  if (first === undefined || first.length === 0) {
    res.writeHead(plan.status).end();
    return;
  }
  try {
    if (plan.partHeads) {
      // The first bytes are read (so checked) before anything goes out, as weed buffers them.
      const firstIt = source.chunks(first.start, first.length)[Symbol.asyncIterator]();
      const firstChunk = await firstIt.next();
      res.writeHead(206);
      for (let i = 0; i < plan.ranges.length; i++) {
        const r = plan.ranges[i]!;
        if (!(await send(res, plan.partHeads[i]!))) return void (await firstIt.return?.());
        if (i === 0) {
          if (!firstChunk.done && !(await send(res, firstChunk.value, source)))
            return void (await firstIt.return?.());
          if (!(await sendRest(res, firstIt, source))) return;
        } else if (!(await sendRest(res, source.chunks(r.start, r.length)[Symbol.asyncIterator](), source)))
          return;
      }
      if (await send(res, plan.tail!)) res.end();
      return;
    }
    if (source.bytes) {
      const body = source.bytes.subarray(first.start, first.start + first.length);
      if (!res.hasHeader("content-type") && !encoded) res.setHeader("Content-Type", sniffContentType(body));
      res.writeHead(plan.status).end(body);
      return;
    }
    const it = source.chunks(first.start, first.length)[Symbol.asyncIterator]();
    // The first bytes are read before the status goes out: they may decide the type, and a source
    // that fails at once still leaves room for a clean error.
    const head: Uint8Array[] = [];
    let got = 0;
    while (got < SNIFF_LEN) {
      const next = await it.next();
      if (next.done) break;
      head.push(next.value);
      got += next.value.length;
    }
    if (!res.hasHeader("content-type") && !encoded && got > 0) {
      const sample = head.length === 1 ? head[0]! : Buffer.concat(head);
      res.setHeader("Content-Type", sniffContentType(sample));
    }
    res.writeHead(plan.status);
    for (const c of head) if (!(await send(res, c, source))) return void (await it.return?.());
    if (await sendRest(res, it, source)) res.end();
  } catch (err) {
    failContent(res, plan.status === 200, (err as Error).message);
  }
}

/**
 * A read that failed part way: a whole-content answer with nothing sent yet becomes a 500 with the
 * error text (Go's http.Error); anything else is cut off, so no client takes it as complete.
 */
function failContent(res: ServerResponse, whole: boolean, message: string): void {
  if (whole && !res.headersSent) {
    const body = Buffer.from(`${message}\n`, "utf8");
    res.removeHeader("Content-Length");
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Content-Length", body.length);
    res.writeHead(500).end(body);
    return;
  }
  res.destroy();
}
