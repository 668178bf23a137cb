// A request a reader does not serve itself, passed unchanged to the primary over a Unix socket and
// its answer passed back byte for byte (the primary adds the Server and request id headers).

import { Agent, type IncomingMessage, request, type ServerResponse } from "node:http";

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * Raw headers without the hop-by-hop ones: the client's connection is the reader's and the
 * primary's is the agent's, so Connection and Keep-Alive stay on their own hop.
 */
function endToEnd(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === "connection" || name === "keep-alive") continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

export function forward(socketPath: string, req: IncomingMessage, res: ServerResponse): void {
  const upstream = request(
    {
      socketPath,
      agent,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.rawHeaders) as unknown as Record<string, string>,
      setHost: false,
    },
    (answer) => {
      res.writeHead(
        answer.statusCode ?? 502,
        endToEnd(answer.rawHeaders) as unknown as Record<string, string>,
      );
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    },
  );
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "Content-Length": 0 }).end();
    else res.destroy();
  });
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
