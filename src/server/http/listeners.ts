// HTTP listeners with weed's conventions: bind to -ip.bind (or -ip), and also to localhost when no
// explicit bind address was given; a connection idle for -idleTimeout seconds is closed. With an
// HTTPS identity ([https.volume]) the listener speaks TLS and takes rotated certificates live.

import { createServer, type IncomingMessage, type Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { HttpsIdentity } from "../../security/tls.js";
import { log } from "../../util/log.js";
import { answerClientErrors, goProtocol } from "./protocol.js";
import type { Handler } from "./router.js";

export interface HttpListener {
  addresses: string[];
  /** The listening servers (reader processes accept on them too). */
  servers: Server[];
  close(graceMs: number): Promise<void>;
}

export function isLoopbackOrWildcard(host: string): boolean {
  return (
    host === "" ||
    host === "localhost" ||
    host === "0.0.0.0" ||
    host === "::" ||
    host === "::1" ||
    (isIP(host) === 4 && host.startsWith("127."))
  );
}

/** An HTTP server with weed's limits and timeouts, not yet listening (reader processes use it too). */
export function newHttpServer(
  handler: Handler,
  idleTimeoutSeconds: number,
  tls?: HttpsIdentity | undefined,
): Server {
  // Go's protocol rules and answers to malformed requests before weed's router (protocol.ts).
  handler = goProtocol(handler);
  // Go accepts up to 1 MiB of request headers (http.DefaultMaxHeaderBytes); Node only 16 KiB.
  const httpOptions = { keepAlive: true, noDelay: true, maxHeaderSize: 1 << 20 };
  const server: Server = tls
    ? createHttpsServer({ ...httpOptions, ...tls.options() }, handler)
    : createServer(httpOptions, handler);
  answerClientErrors(server);
  // Node hands CONNECT to a separate event; weed's router answers it like any other method.
  server.on("connect", (req: IncomingMessage, socket: Duplex) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.on("finish", () => socket.end());
    handler(req, res);
  });
  // Uploads may legitimately take long; only idleness ends a connection.
  server.requestTimeout = 0;
  server.headersTimeout = Math.max(60_000, idleTimeoutSeconds * 1000);
  server.keepAliveTimeout = idleTimeoutSeconds * 1000;
  server.timeout = idleTimeoutSeconds * 1000;
  return server;
}

function listenOne(
  handler: Handler,
  host: string,
  port: number,
  idleTimeoutSeconds: number,
  tls: HttpsIdentity | undefined,
): Promise<Server> {
  const server = newHttpServer(handler, idleTimeoutSeconds, tls);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: host || undefined, port }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

export async function listenHttp(
  handler: Handler,
  host: string,
  port: number,
  options: { idleTimeoutSeconds: number; alsoLocalhost: boolean; tls?: HttpsIdentity | undefined },
): Promise<HttpListener> {
  const { tls } = options;
  const servers = [await listenOne(handler, host, port, options.idleTimeoutSeconds, tls)];
  if (options.alsoLocalhost && !isLoopbackOrWildcard(host)) {
    // As weed: a failure to also listen on localhost is not fatal.
    await listenOne(handler, "localhost", port, options.idleTimeoutSeconds, tls).then(
      (s) => servers.push(s),
      () => undefined,
    );
  }
  tls?.watch(
    () => {
      for (const s of servers) (s as HttpsServer).setSecureContext(tls.options());
      log.info(`reloaded the HTTPS certificate of port ${port}`);
    },
    (err) => log.warn(`reloading the HTTPS certificate of port ${port}: ${err.message}`),
  );
  return {
    servers,
    addresses: servers.map((s) => {
      const a = s.address();
      return typeof a === "string" ? a : `${a?.address}:${a?.port}`;
    }),
    close: (graceMs) => {
      tls?.close();
      return Promise.all(servers.map((s) => closeServer(s, graceMs))).then(() => undefined);
    },
  };
}

/** Stop accepting, let in-flight requests finish for up to graceMs, then cut what remains. */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
