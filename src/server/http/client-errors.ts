// Requests Node's HTTP parser refuses, answered as Go's net/http answers them: the same status and
// text, then the connection closed. A request already being answered on the connection (the one
// before pipelined garbage) is finished first, as Go finishes it, rather than cut off.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

const ERROR_HEADERS = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";

function goErrorResponse(code: string | undefined): string {
  switch (code) {
    case "HPE_HEADER_OVERFLOW": {
      const text = "431 Request Header Fields Too Large";
      return `HTTP/1.1 ${text}${ERROR_HEADERS}${text}`;
    }
    case "HPE_INVALID_TRANSFER_ENCODING":
      return `HTTP/1.1 501 Not Implemented${ERROR_HEADERS}Unsupported transfer encoding`;
    case "HPE_INVALID_VERSION":
      return UNSUPPORTED_VERSION;
    default: {
      const text = "400 Bad Request";
      return `HTTP/1.1 ${text}${ERROR_HEADERS}${text}`;
    }
  }
}

const VERSION_TEXT = "505 HTTP Version Not Supported: unsupported protocol version";
const UNSUPPORTED_VERSION = `HTTP/1.1 ${VERSION_TEXT}${ERROR_HEADERS}${VERSION_TEXT}`;

/**
 * Emitted on a request whose client closed its side before the whole body arrived (Node's parser
 * then reports the connection instead of ending the request): its body reader fails with Go's
 * "unexpected EOF", and the handler answers as weed's does.
 */
export const BODY_CUT_SHORT = "seaweed:body-cut-short";

/** Requests already cut short when their handler starts reading (the event has passed then). */
export const bodiesCutShort = new WeakSet<IncomingMessage>();

export function answerClientErrors(server: Server): void {
  // A client that half-closes after its request still gets the answer, as from Go; by default
  // Node ends such a connection at once, losing the response of a request still being handled.
  (server as Server & { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Bytes after a response that closed the connection (a body the handler did not read): Go has
    // closed by then and says nothing more.
    if (err.code === "ECONNRESET" || err.code === "HPE_CLOSED_CONNECTION" || !socket.writable) {
      socket.destroy();
      return;
    }
    const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    // A body cut short: the handler's answer is all Go sends before closing.
    const cutShort = err.code === "HPE_INVALID_EOF_STATE" && pending;
    const reply = () => {
      if (!socket.writable) socket.destroy();
      else if (cutShort) socket.end();
      else socket.end(goErrorResponse(err.code));
    };
    if (cutShort) {
      bodiesCutShort.add(pending.req);
      pending.req.emit(BODY_CUT_SHORT);
    }
    if (pending && !pending.writableFinished) {
      // On prefinish the answer is queued on the socket: ours follows it, before Node ends the
      // connection on finish.
      pending.once("prefinish", reply);
      // A response that never completes (the client went away) leaves nothing to follow.
      pending.once("close", () => {
        if (!pending.writableFinished) socket.destroy();
      });
    } else {
      reply();
    }
  });
}

/** Go serves HTTP/1.x only (and the HTTP/2 preface): anything else is 505. True when refused. */
export function refuseUnsupportedVersion(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.httpVersionMajor === 1) return false;
  res.socket?.end(UNSUPPORTED_VERSION);
  return true;
}
