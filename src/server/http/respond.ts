// Response helpers shared by the HTTP handlers: the headers every weed volume response carries and
// JSON bodies written the way weed writes them.

import type { IncomingMessage, ServerResponse } from "node:http";

const REQUEST_ID_HEADER = "x-amz-request-id";
let sequence = Math.floor(Math.random() * 0xffffffff);

const TWO_24 = 0x1000000;
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, "0"));

/** Upper-case hex of ms × 10^6 (nanoseconds, kept exact past 2^53 as two doubles split at bit 24). */
function nanosHex(ms: number): string {
  const msHigh = Math.floor(ms / TWO_24);
  const low = (ms - msHigh * TWO_24) * 1_000_000;
  const carry = Math.floor(low / TWO_24);
  const high = msHigh * 1_000_000 + carry;
  return (high.toString(16) + (low - carry * TWO_24).toString(16).padStart(6, "0")).toUpperCase();
}

let prefixMs = -1;
let prefix = "";

/**
 * weed's request id: the time in nanoseconds and 32 random-looking bits, upper-case hex. The time
 * part is made once a millisecond (ids within it differ in their last 32 bits), so a request costs
 * a few table lookups.
 */
export function newRequestId(): string {
  const ms = Date.now();
  if (ms !== prefixMs) {
    prefixMs = ms;
    prefix = nanosHex(ms);
  }
  sequence = (sequence * 1664525 + 1013904223) >>> 0;
  return (
    prefix +
    HEX_BYTE[sequence >>> 24]! +
    HEX_BYTE[(sequence >>> 16) & 0xff]! +
    HEX_BYTE[(sequence >>> 8) & 0xff]! +
    HEX_BYTE[sequence & 0xff]!
  );
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

const GO_ESCAPED = /[<>&\u2028\u2029]/g;
const HAS_GO_ESCAPED = /[<>&\u2028\u2029]/;

/** Go's json.Marshal escapes <, >, & (HTML safety) and U+2028/U+2029; JSON.stringify does not. */
export function goJson(text: string): string {
  if (!HAS_GO_ESCAPED.test(text)) return text;
  return text.replace(GO_ESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function writeJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  if (!bodyAllowed(status)) {
    res.writeHead(status).end();
    return;
  }
  // Only a target that mentions it can ask for pretty output; most never do, so skip the parse.
  const url = req.url ?? "/";
  const pretty = url.includes("pretty") ? new URL(url, "http://x").searchParams.get("pretty") : null;
  const text = body === undefined ? "" : goJson(JSON.stringify(body, null, pretty ? 2 : undefined));
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
