// Slow and oversized clients (issue 11), each sent alike to the pinned Go `weed volume` and to ours,
// both started with -idleTimeout=2 and -fileSizeLimitMB=1: request headers trickled a byte at a
// time, a body that stops arriving, headers over 64 KiB, an upload over the size limit. Each server
// must answer as weed answers, drop what it must drop, and go on serving other clients meanwhile.
// Every socket has a hard deadline and is destroyed in a finally block: no case can hang the run.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { formatFileId } from "../../src/storage/needle/file-id.js";
import { COOKIE, pattern, startTwins, type Twins, writeVolume } from "../http/twin.js";

const VID = 7;
const IDLE_SECONDS = 2;
const LIMIT_MB = 1;
/** No exchange may take longer than this, whatever the server does. */
const HARD_DEADLINE_MS = 30_000;
let twins: Twins;

before(async () => {
  twins = await startTwins(
    "wv-slow-clients-",
    (source) => writeVolume(source, VID, [{ key: 1, data: Buffer.from("served meanwhile"), name: "a.txt" }]),
    ["-readMode=local", `-idleTimeout=${IDLE_SECONDS}`, `-fileSizeLimitMB=${LIMIT_MB}`],
  );
});

after(async () => {
  await twins?.stop();
});

const fid = (key: number) => formatFileId(VID, 0, key, COOKIE);
const servers = () => [
  { kind: "go", port: twins.go.port, url: twins.go.url },
  { kind: "ours", port: twins.ours.port, url: twins.ours.url },
];

interface Exchange {
  /** Status of the first response line, 0 when none came. */
  status: number;
  text: string;
  /** The server ended or reset the connection (rather than our deadline). */
  closedByServer: boolean;
  ms: number;
}

/**
 * One connection: writes `pieces` with `gapMs` between them, then waits (without ending its side)
 * until the server closes or `waitMs` pass. The socket is always destroyed at the end.
 */
async function exchange(
  port: number,
  pieces: (string | Buffer)[],
  { gapMs = 0, waitMs = 5000 }: { gapMs?: number; waitMs?: number } = {},
): Promise<Exchange> {
  const started = Date.now();
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  const chunks: Buffer[] = [];
  let closedByServer = false;
  const closed = new Promise<void>((resolve) => {
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => {
      closedByServer = true;
      resolve();
    });
    socket.on("error", () => {
      closedByServer = true;
      resolve();
    });
    socket.on("close", () => resolve());
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
      closed,
    ]);
    for (const p of pieces) {
      if (socket.destroyed || closedByServer) break;
      socket.write(p);
      if (gapMs > 0) await Promise.race([new Promise((r) => setTimeout(r, gapMs)), closed]);
    }
    await Promise.race([
      closed,
      new Promise((r) => {
        timer = setTimeout(r, Math.min(waitMs, HARD_DEADLINE_MS));
      }),
    ]);
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  const text = Buffer.concat(chunks).toString("latin1");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return { status: m ? Number(m[1]) : 0, text, closedByServer, ms: Date.now() - started };
}

/** A plain GET by fetch with its own deadline: the server still serves others. */
async function stillServes(url: string): Promise<void> {
  const r = await fetch(`${url}/${fid(1)}`, { signal: AbortSignal.timeout(15_000) });
  assert.equal(r.status, 200, `${url} GET meanwhile`);
  assert.equal(await r.text(), "served meanwhile");
}

const bodyOf = (text: string) => text.slice(text.indexOf("\r\n\r\n") + 4);

test("request headers sent a byte at a time, slower in all than -idleTimeout, are served", async () => {
  const request = `GET /${fid(1)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
  // ~55 bytes 60 ms apart: over 3 s in all, never idle for long.
  const results = await Promise.all(
    servers().map(async (s) => {
      const ex = await exchange(s.port, [...request], { gapMs: 60, waitMs: 10_000 });
      await stillServes(s.url);
      return ex;
    }),
  );
  const [go, ours] = results as [Exchange, Exchange];
  assert.equal(go.status, 200, `weed: ${go.text.slice(0, 200)}`);
  assert.equal(ours.status, go.status, `ours: ${ours.text.slice(0, 200)}`);
  assert.equal(bodyOf(ours.text), bodyOf(go.text));
});

test("a body that stops coming is dropped after -idleTimeout; nothing is stored; others are served", async (t) => {
  const results = await Promise.all(
    servers().map(async (s) => {
      const key = 1000;
      const head = `POST /${fid(key)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`;
      // Ten stalled uploads at once, and a reader served while they hang.
      const stalled = Array.from({ length: 10 }, () =>
        exchange(s.port, [head, pattern(1000, 3)], { waitMs: (IDLE_SECONDS + 13) * 1000 }),
      );
      await stillServes(s.url);
      const done = await Promise.all(stalled);
      const after = await fetch(`${s.url}/${fid(key)}`, { signal: AbortSignal.timeout(15_000) });
      await after.arrayBuffer();
      return { kind: s.kind, ex: done[0]!, all: done, stored: after.status };
    }),
  );
  const [go, ours] = results as [(typeof results)[0], (typeof results)[0]];
  for (const r of results) {
    for (const ex of r.all) {
      assert.ok(ex.closedByServer, `${r.kind}: the server kept a stalled upload open ${ex.ms} ms`);
      assert.ok(
        ex.ms >= IDLE_SECONDS * 1000 - 250,
        `${r.kind}: closed after ${ex.ms} ms, before -idleTimeout`,
      );
    }
    assert.equal(r.stored, 404, `${r.kind}: a part-sent upload was stored`);
  }
  for (const r of results) {
    const ms = r.all.map((e) => e.ms);
    t.diagnostic(`${r.kind}: ${r.ex.status} after ${Math.min(...ms)}-${Math.max(...ms)} ms`);
  }
  assert.equal(
    ours.ex.status,
    go.ex.status,
    `status: ours ${JSON.stringify(ours.ex)} / weed ${JSON.stringify(go.ex)}`,
  );
  // weed's error names the connection ("read tcp <server>-><client>: i/o timeout").
  const message = (text: string) => bodyOf(text).replace(/[0-9.]+:\d+/g, "ADDR");
  assert.equal(message(ours.ex.text), message(go.ex.text), "error body");
});

test("headers over 64 KiB: answered as weed answers them, and others are served", async (t) => {
  for (const size of [100 << 10, 900 << 10, 2 << 20]) {
    const request = `GET /${fid(1)} HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(size)}\r\nConnection: close\r\n\r\n`;
    const [go, ours] = (await Promise.all(
      servers().map(async (s) => {
        const ex = await exchange(s.port, [request], { waitMs: 10_000 });
        await stillServes(s.url);
        return ex;
      }),
    )) as [Exchange, Exchange];
    t.diagnostic(`${size}-byte header: weed ${go.status}, ours ${ours.status}`);
    assert.notEqual(go.status, 0, `weed gave no answer to a ${size}-byte header`);
    assert.equal(
      ours.status,
      go.status,
      `${size}-byte header: ours ${ours.text.slice(0, 120)} / weed ${go.text.slice(0, 120)}`,
    );
  }
});

test("an upload over -fileSizeLimitMB is refused as weed refuses it, raw and multipart", async (t) => {
  const big = pattern((LIMIT_MB << 20) + 1000, 9);
  const boundary = "slowclientsboundary";
  const multipart = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    big,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const cases: [string, string, Buffer][] = [
    ["raw", "application/octet-stream", big],
    ["multipart", `multipart/form-data; boundary=${boundary}`, multipart],
  ];
  let key = 2000;
  for (const [what, type, body] of cases) {
    key++;
    const head = `POST /${fid(key)} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    // A server that answers before the whole body is in and closes can have its answer discarded
    // by the reset that the rest of the body provokes (TCP, not the server): such a try is repeated.
    const attempt = () =>
      Promise.all(
        servers().map(async (s) => {
          const ex = await exchange(s.port, [head, body], { waitMs: 15_000 });
          await stillServes(s.url);
          const stored = await fetch(`${s.url}/${fid(key)}`, { signal: AbortSignal.timeout(15_000) });
          await stored.arrayBuffer();
          return { ...ex, stored: stored.status };
        }),
      ) as Promise<[Exchange & { stored: number }, Exchange & { stored: number }]>;
    let [go, ours] = await attempt();
    for (let i = 0; i < 3 && (go.status === 0 || ours.status === 0); i++) [go, ours] = await attempt();
    t.diagnostic(`${what}: weed ${go.status} ${bodyOf(go.text).trim()}, ours ${ours.status}`);
    assert.notEqual(go.status, 0, `weed gave no answer to a ${what} upload over the limit`);
    assert.equal(
      ours.status,
      go.status,
      `${what}: ours ${ours.text.slice(0, 300)} / weed ${go.text.slice(0, 300)}`,
    );
    assert.equal(bodyOf(ours.text).trim(), bodyOf(go.text).trim(), `${what}: error body`);
    assert.equal(ours.stored, go.stored, `${what}: stored after the refusal`);
  }
});
