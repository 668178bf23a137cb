// One request to the real weed volume and to ours, and their answers compared: status, headers
// (but those that differ between any two servers) and body byte for byte.
import assert from "node:assert/strict";
import { request } from "node:http";

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The connection broke before the response was complete. */
  aborted: boolean;
}

/** Headers that differ between any two servers or responses. */
const VOLATILE = new Set(["date", "server", "x-amz-request-id", "connection", "keep-alive"]);

export function fetchRaw(
  base: string,
  path: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let answer: Answer | undefined;
    const done = (aborted: boolean) => {
      if (!answer) answer = { status: 0, headers: {}, body: Buffer.alloc(0), aborted };
      answer.aborted ||= aborted;
      answer.body = Buffer.concat(chunks);
      resolve(answer);
    };
    const req = request(`${base}${path}`, { method, headers, agent: false }, (res) => {
      const h: Record<string, string> = {};
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const name = res.rawHeaders[i]!.toLowerCase();
        if (!VOLATILE.has(name))
          h[name] = h[name] === undefined ? res.rawHeaders[i + 1]! : `${h[name]}, ${res.rawHeaders[i + 1]}`;
      }
      answer = { status: res.statusCode ?? 0, headers: h, body: Buffer.alloc(0), aborted: false };
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done(!res.complete));
      res.on("error", () => done(true));
      res.on("aborted", () => done(true));
    });
    req.on("error", () => done(true));
    req.end(body);
  });
}

/** The multipart boundary is random: both answers are compared with it replaced. */
export function normalized(a: Answer): Answer {
  const m = /boundary=([0-9a-f]+)/.exec(a.headers["content-type"] ?? "");
  if (!m) return a;
  const b = m[1]!;
  return {
    ...a,
    headers: { ...a.headers, "content-type": a.headers["content-type"]!.replace(b, "BOUNDARY") },
    body: Buffer.from(a.body.toString("latin1").replaceAll(b, "BOUNDARY"), "latin1"),
  };
}

export interface CompareOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Compare only the status (and these headers, when given). */
  only?: "status";
  compareHeaders?: string[];
}

/** Sends the same request to weed (`goUrl`) and to us (`ourUrl`); asserts the answers match. */
export async function sameAnswer(
  goUrl: string,
  ourUrl: string,
  path: string,
  options: CompareOptions = {},
): Promise<{ go: Answer; ours: Answer }> {
  const { method = "GET", headers = {}, body } = options;
  const [g, o] = await Promise.all([
    fetchRaw(goUrl, path, method, headers, body),
    fetchRaw(ourUrl, path, method, headers, body),
  ]);
  const want = normalized(g);
  const got = normalized(o);
  const what = `${method} ${path} ${JSON.stringify(headers)}`;
  assert.equal(got.status, want.status, `${what}: status`);
  if (options.only === "status") {
    for (const name of options.compareHeaders ?? [])
      assert.equal(got.headers[name], want.headers[name], `${what}: header ${name}`);
    return { go: g, ours: o };
  }
  assert.deepEqual(got.headers, want.headers, `${what}: headers`);
  assert.equal(got.aborted, want.aborted, `${what}: aborted`);
  assert.ok(got.body.equals(want.body), `${what}: body (${got.body.length} bytes, weed ${want.body.length})`);
  return { go: g, ours: o };
}
