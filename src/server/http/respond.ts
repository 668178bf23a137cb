// Response helpers shared by the HTTP handlers: the headers every weed volume response carries and
// JSON bodies written the way weed writes them.

import type { IncomingMessage, ServerResponse } from "node:http";

const REQUEST_ID_HEADER = "x-amz-request-id";
let sequence = Math.floor(Math.random() * 0xffffffff);

/** weed's request id: nanosecond time and 32 random-looking bits, upper-case hex. */
export function newRequestId(): string {
  const nanos = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  sequence = (sequence * 1664525 + 1013904223) >>> 0;
  return nanos.toString(16).toUpperCase() + sequence.toString(16).toUpperCase().padStart(8, "0");
}

export function setCommonHeaders(res: ServerResponse, serverHeader: string): void {
  res.setHeader("Server", serverHeader);
  res.setHeader(REQUEST_ID_HEADER, newRequestId());
}

/** Statuses that must not carry a body (1xx, 204, 304), as Go's bodyAllowedForStatus. */
export function bodyAllowed(status: number): boolean {
  return !((status >= 100 && status <= 199) || status === 204 || status === 304);
}

/** An empty response with an explicit zero length, as Go's server sends it. */
export function endEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "Content-Length": 0 }).end();
}

export function writeJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  if (!bodyAllowed(status)) {
    res.writeHead(status).end();
    return;
  }
  const pretty = new URL(req.url ?? "/", "http://x").searchParams.get("pretty");
  const text = body === undefined ? "" : JSON.stringify(body, null, pretty ? 2 : undefined);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "X-Content-Type-Options": "nosniff",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function writeJsonError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
): void {
  writeJson(req, res, status, { error: message });
}
