// HTTP/1 protocol rules where Node's server is laxer or answers differently than Go's net/http:
// requests Go refuses before any handler runs (no HTTP/1.x version, two Host headers, a transfer
// coding other than chunked, more than Go's header bytes), ServeMux's redirect of unclean paths,
// and parse errors answered as Go answers them, after any response already in flight on the
// connection (a body longer than its Content-Length must not cost the request its answer).

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { posix } from "node:path";
import type { Handler } from "./router.js";
import { writeGoNotFound } from "./static.js";

/** Go reads at most http.DefaultMaxHeaderBytes plus 4096 bytes of slop for the request head. */
const MAX_HEAD_BYTES = (1 << 20) + 4096;

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

/** Go's answer to a request it cannot serve: plain text, and the connection closed. */
function refuse(socket: Socket, status: number, detail = ""): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const reason = REASONS[status] ?? "Bad Request";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n` +
      `${status} ${reason}${detail ? `: ${detail}` : ""}`,
  );
}

function rawText(err: Error): string {
  const raw = (err as Error & { rawPacket?: Buffer }).rawPacket;
  return raw ? raw.subarray(0, 64).toString("latin1") : "";
}

function refuseMethod(socket: Socket, method: string): void {
  const body = JSON.stringify({ error: `unsupported method ${method}` });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

function headBytes(req: IncomingMessage): number {
  let n = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12;
  for (const h of req.rawHeaders) n += h.length + 2;
  return n;
}

/** Go's ServeMux cleanPath: path.Clean, keeping a trailing slash. */
function cleanPath(p: string): string {
  // Only "//" and dot segments change under path.Clean; most paths have neither.
  if (p.charCodeAt(0) === 0x2f && !p.includes("//") && !p.includes("/.")) return p;
  if (p === "") return "/";
  const rooted = p[0] === "/" ? p : `/${p}`;
  const clean = posix.normalize(rooted).replace(/\/+$/, "") || "/";
  return rooted.endsWith("/") && clean !== "/" ? `${clean}/` : clean;
}

/** The checks Go's server and mux make before a handler sees the request. */
export function goProtocol(handler: Handler): Handler {
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (req.httpVersionMajor !== 1) return refuse(socket, 400, "malformed HTTP version");
    let hosts = 0;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 4 && name.toLowerCase() === "host") hosts++;
    }
    if (hosts > 1) return refuse(socket, 400, "too many Host headers");
    if (headBytes(req) > MAX_HEAD_BYTES) return refuse(socket, 431);
    const te = req.headers["transfer-encoding"];
    if (te !== undefined && te.toLowerCase() !== "chunked")
      return refuse(socket, 501, "unsupported transfer encoding");
    if (req.method === "CONNECT" && !req.url?.startsWith("/")) {
      // An authority, not a path: Go's mux matches no handler.
      return writeGoNotFound(req, res);
    }
    if (req.method !== "CONNECT") {
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      const clean = cleanPath(path);
      if (clean !== path) {
        res.writeHead(307, { Location: clean + (q < 0 ? "" : url.slice(q)) }).end();
        return;
      }
    }
    handler(req, res);
  };
}

/**
 * Emitted on a request whose client closed its side before the whole body arrived (Node's parser
 * then reports the connection instead of ending the request); a request already marked when its
 * handler starts reading is in bodiesCutShort. Its body reader fails with Go's "unexpected EOF".
 */
export const BODY_CUT_SHORT = "seaweed:body-cut-short";
export const bodiesCutShort = new WeakSet<IncomingMessage>();

/** Parse errors answered with Go's status codes, after the response in flight on the connection. */
export function answerClientErrors(server: Server): void {
  // Node's header-count cap drops headers silently; Go has none, only the byte limit above.
  server.maxHeadersCount = 0;
  // A client that half-closes after its request still gets the answer, as from Go; by default
  // Node ends such a connection at once, losing the response of a request still being handled.
  (server as Server & { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? "";
    // Bytes after a response that closed the connection (a body the handler did not read): Go has
    // closed by then and says nothing more.
    if (code === "ECONNRESET" || code === "HPE_CLOSED_CONNECTION" || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      code === "HPE_HEADER_OVERFLOW"
        ? 431
        : code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? 408
          : code === "HPE_INVALID_VERSION"
            ? 505
            : 400;
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!inFlight) {
      // Node's parser knows only the registered methods; weed's router refuses the rest as JSON.
      const method =
        code === "HPE_INVALID_METHOD" ? /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /.exec(rawText(err)) : null;
      if (method) return refuseMethod(socket, method[0].trimEnd());
      return refuse(socket, status);
    }
    const req = inFlight.req;
    if (req.complete && inFlight.writableFinished) return refuse(socket, status);
    // The connection ended inside a body: its reader sees Go's unexpected EOF and answers (400).
    const cutShort = code === "HPE_INVALID_EOF_STATE" && !req.complete;
    if (cutShort) {
      bodiesCutShort.add(req);
      req.emit(BODY_CUT_SHORT);
    }
    // Go answers the request in flight, then the broken bytes that follow it (pipelined garbage)
    // with their error; a body cut short has nothing after its answer. On prefinish the answer is
    // queued on the socket, so ours follows it before Node ends the connection.
    // Bytes after a complete request that form a whole line are a next request Go reads and
    // refuses (400); a partial line or a broken body only ends the connection once it closes.
    const packet = (err as Error & { rawPacket?: Buffer }).rawPacket;
    const parsed = (err as Error & { bytesParsed?: number }).bytesParsed ?? 0;
    const nextLine = req.complete && packet?.subarray(parsed).includes(0x0a);
    const after = () => (nextLine ? refuse(socket, status) : socket.end());
    if (inFlight.writableFinished) after();
    else inFlight.once("prefinish", after);
  });
}
