// Support for tests that put the real pinned weed volume and ours side by side: volumes written
// here, identical copies served by both, the same request sent to each and the answers compared.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import {
  FLAG_CHUNK_MANIFEST,
  FLAG_COMPRESSED,
  FLAG_HAS_LAST_MODIFIED,
  FLAG_HAS_MIME,
  FLAG_HAS_NAME,
  FLAG_HAS_PAIRS,
  FLAG_HAS_TTL,
  newNeedle,
} from "../../src/storage/needle/needle.js";
import { EMPTY_TTL, parseTtl } from "../../src/storage/needle/ttl.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import { createVolume } from "../../src/storage/volume/volume-load.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

export const COOKIE = 0x1234abcd;
export const LAST_MODIFIED = 1_700_000_123;

export interface Spec {
  key: number;
  data: Buffer;
  name?: string;
  mime?: string;
  /** The pairs JSON as stored (weed writes an object of strings; anything else must not break reads). */
  pairs?: string;
  compressed?: boolean;
  manifest?: boolean;
  deleted?: boolean;
  /** A needle TTL such as "1m"; with LAST_MODIFIED long past, an expired needle. */
  ttl?: string;
}

export function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed + (i >> 9)) & 0xff;
  return b;
}

/** Writes a volume with our storage code; returns where each needle's record starts. */
export function writeVolume(
  dir: string,
  vid: number,
  specs: Spec[],
  version: 2 | 3 = 3,
): Map<number, { offset: number }> {
  const v = createVolume(
    { dir, idxDir: dir, collection: "", id: vid },
    { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width: 4, version },
  );
  const where = new Map<number, { offset: number }>();
  try {
    for (const s of specs) {
      let flags = FLAG_HAS_LAST_MODIFIED;
      if (s.name !== undefined) flags |= FLAG_HAS_NAME;
      if (s.mime) flags |= FLAG_HAS_MIME;
      if (s.pairs) flags |= FLAG_HAS_PAIRS;
      if (s.compressed) flags |= FLAG_COMPRESSED;
      if (s.manifest) flags |= FLAG_CHUNK_MANIFEST;
      if (s.ttl) flags |= FLAG_HAS_TTL;
      v.write(
        newNeedle({
          ttl: s.ttl ? parseTtl(s.ttl) : EMPTY_TTL,
          keyLo: s.key,
          cookie: COOKIE,
          data: s.data,
          flags,
          name: Buffer.from(s.name ?? ""),
          mime: Buffer.from(s.mime ?? ""),
          lastModified: LAST_MODIFIED,
          pairs: Buffer.from(s.pairs ?? ""),
        }),
      );
      where.set(s.key, { offset: v.locate(0, s.key).offset });
      if (s.deleted) v.delete(0, s.key, COOKIE);
    }
  } finally {
    v.close();
  }
  return where;
}

export interface Twins {
  scratch: { dir: string; cleanup: () => void };
  master: Master;
  go: VolumeProc;
  ours: VolumeProc;
  goData: string;
  ourData: string;
  stop(): Promise<void>;
}

/**
 * A master, and weed volume and ours each serving its own copy of `source` (written by `fill`). Each
 * runs in its own directory, where `securityToml` (if any) is found as security.toml.
 */
export async function startTwins(
  prefix: string,
  fill: (source: string) => void,
  extra: string[] | ((kind: "go" | "ours") => Promise<string[]>) = [],
  securityToml?: string,
): Promise<Twins> {
  const scratch = scratchDir(prefix);
  const source = join(scratch.dir, "source");
  mkdirSync(source);
  fill(source);
  const master = await startMaster(scratch.dir);
  const dirs = ["go", "ours"].map((k) => {
    const home = join(scratch.dir, `${k}-home`);
    const data = join(scratch.dir, `${k}-data`);
    mkdirSync(home);
    cpSync(source, data, { recursive: true });
    if (securityToml !== undefined) writeFileSync(join(home, "security.toml"), securityToml);
    return { home, data };
  });
  const args = async (kind: "go" | "ours") => (typeof extra === "function" ? extra(kind) : extra);
  const [go, ours] = await Promise.all([
    startVolume("go", dirs[0]!.home, dirs[0]!.data, master, await args("go")),
    startVolume("ours", dirs[1]!.home, dirs[1]!.data, master, await args("ours")),
  ]);
  return {
    scratch,
    master,
    go,
    ours,
    goData: dirs[0]!.data,
    ourData: dirs[1]!.data,
    async stop() {
      await Promise.all([go.proc.stop(), ours.proc.stop()]);
      await master.proc.stop();
      scratch.cleanup();
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The connection broke before the response was complete. */
  aborted: boolean;
}

/** Headers that differ between any two servers or responses. */
export const VOLATILE = new Set(["date", "server", "x-amz-request-id", "connection", "keep-alive"]);

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

/** Asserts two answers equal in status, headers (volatile ones aside), completeness and body. */
export function assertSameAnswer(got: Answer, want: Answer, what: string): void {
  const g = normalized(got);
  const w = normalized(want);
  assert.equal(g.status, w.status, `${what}: status`);
  assert.deepEqual(g.headers, w.headers, `${what}: headers`);
  assert.equal(g.aborted, w.aborted, `${what}: aborted`);
  assert.ok(g.body.equals(w.body), `${what}: body (${g.body.length} bytes, weed ${w.body.length})`);
}

/** What a raw socket exchange gave: the status of the first response line (0 if none) and all bytes. */
export interface RawAnswer {
  status: number;
  text: string;
}

/**
 * Writes `pieces` to a fresh connection (a pause between pieces lets a server see a short body),
 * then reads until the server closes or `idleMs` pass without data. `endAfter` half-closes the
 * connection once everything is written, so a server waiting for more body sees it end.
 */
export function rawExchange(
  port: number,
  pieces: (string | Buffer)[],
  idleMs = 1500,
  endAfter = false,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, idleMs);
    };
    socket.on("data", (c) => {
      chunks.push(c);
      idle();
    });
    socket.on("end", finish);
    socket.on("error", finish);
    socket.on("connect", async () => {
      for (const p of pieces) {
        if (socket.destroyed) break;
        socket.write(p);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (endAfter && !socket.destroyed) socket.end();
      idle();
    });
  });
}

/** SHA-256 of every file in a volume directory, by name: what must not change after a refusal. */
export function fingerprint(dataDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dataDir).sort()) {
    if (!/\.(dat|idx|vif)$/.test(name)) continue;
    out[name] = createHash("sha256")
      .update(readFileSync(join(dataDir, name)))
      .digest("hex");
  }
  return out;
}
