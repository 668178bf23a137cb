// fast-check properties of the request parsers (issue 11): file ids and fid paths, the Range header,
// media types and multipart upload bodies. Any input gives an answer or the parser's own error;
// what is well formed is read back exactly. FUZZ_RUNS=N runs each property N times (200 by default).

import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { test } from "node:test";
import fc from "fast-check";
import { parseFidPath } from "../../src/server/http/fid-path.js";
import { planRange } from "../../src/server/http/range.js";
import { ByteQueue, RequestBody } from "../../src/server/http/upload-body.js";
import { GoError, parseMediaType } from "../../src/server/http/upload-go.js";
import { readMultipart } from "../../src/server/http/upload-read.js";
import {
  FileIdError,
  formatFileId,
  formatNeedleIdCookie,
  parseFileId,
  parseNeedlePath,
  parseVolumeId,
} from "../../src/storage/needle/file-id.js";
import { onlyOwnErrors, onlyOwnErrorsAsync, RUNS, record } from "./parser-properties.js";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const hexChars = "0123456789abcdefABCDEF";
/** Strings near the shapes parsers expect, and free ones. */
const fidLike = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef,_./-xg ") }),
  fc
    .tuple(
      fc.string({ unit: fc.constantFrom(..."0123456789") }),
      fc.string({ unit: fc.constantFrom(...hexChars) }),
    )
    .map(([v, k]) => `${v},${k}`),
);

test("file ids: any string parses or gives a FileIdError; formatted ids parse back", () => {
  fc.assert(
    fc.property(fidLike, (s) => {
      onlyOwnErrors(() => parseFileId(s), [FileIdError]);
      onlyOwnErrors(() => parseNeedlePath(s), [FileIdError]);
      onlyOwnErrors(() => parseVolumeId(s), [FileIdError]);
      const p = parseFidPath(`/${s}`);
      assert.equal(typeof p.volumeId, "string");
    }),
    { numRuns: RUNS },
  );
  // Key 0 prints as the cookie alone, which weed cannot parse back either: keys start at 1.
  const key = fc.tuple(u32, u32).filter(([hi, lo]) => hi !== 0 || lo !== 0);
  fc.assert(
    fc.property(
      u32,
      key,
      u32,
      fc.option(fc.nat(1000), { nil: undefined }),
      (vid, [hi, lo], cookie, delta) => {
        assert.deepEqual(parseFileId(formatFileId(vid, hi, lo, cookie)), {
          volumeId: vid,
          keyHi: hi,
          keyLo: lo,
          cookie,
        });
        const suffix = delta === undefined ? "" : `_${delta}`;
        const parsed = onlyOwnErrors(
          () => parseNeedlePath(formatNeedleIdCookie(hi, lo, cookie) + suffix),
          [FileIdError],
        );
        const sum = ((BigInt(hi) << 32n) | BigInt(lo)) + BigInt(delta ?? 0);
        if (sum > 0xffffffffffffffffn) return assert.equal(parsed, undefined); // overflow: refused
        assert.deepEqual(parsed, { keyHi: Number(sum >> 32n), keyLo: Number(sum & 0xffffffffn), cookie });
      },
    ),
    { numRuns: RUNS },
  );
});

test("Range: any header gives a consistent plan over the content", () => {
  const spec = fc.oneof(
    fc.tuple(fc.nat(300), fc.nat(300)).map(([a, b]) => `${a}-${b}`),
    fc.nat(300).map((a) => `${a}-`),
    fc.nat(300).map((n) => `-${n}`),
    fc.string({ unit: fc.constantFrom(..."0123456789-+, \t") }),
  );
  const header = fc.oneof(
    fc.string(),
    fc.array(spec, { minLength: 0, maxLength: 4 }).map((specs) => `bytes=${specs.join(",")}`),
  );
  fc.assert(
    fc.property(header, fc.nat(256), (range, size) => {
      const plan = planRange({ range }, size, "text/plain", false, "b".repeat(60));
      let sum = 0;
      for (const r of plan.ranges) {
        // Only the whole content (200) may be empty: a 206 span has at least one byte.
        const least = plan.status === 200 ? 0 : 1;
        assert.ok(r.start >= 0 && r.length >= least && r.start + r.length <= size, JSON.stringify(r));
        sum += r.length;
      }
      if (plan.status === 416) {
        assert.equal(plan.ranges.length, 0);
        assert.equal(plan.headers["Content-Length"], `${plan.body?.length}`);
      } else if (plan.status === 200) {
        assert.equal(plan.headers["Content-Length"], `${sum}`);
        assert.ok(sum === 0 || sum === size);
      } else if (plan.ranges.length === 1) {
        const r = plan.ranges[0]!;
        assert.equal(plan.headers["Content-Length"], `${r.length}`);
        assert.equal(plan.headers["Content-Range"], `bytes ${r.start}-${r.start + r.length - 1}/${size}`);
      } else {
        const heads = (plan.partHeads ?? []).reduce((n, h) => n + h.length, 0);
        assert.equal(plan.headers["Content-Length"], `${heads + sum + (plan.tail ?? "").length}`);
        assert.ok(sum <= size);
      }
    }),
    { numRuns: RUNS },
  );
});

test("media types: any Content-Type parses or gives a GoError", () => {
  const token = fc.string({ unit: fc.constantFrom(..."abcxyz-/;=\"' *%\t\\") });
  fc.assert(
    fc.property(fc.oneof(fc.string(), token), (v) => {
      onlyOwnErrors(() => parseMediaType(v), [GoError]);
    }),
    { numRuns: RUNS },
  );
});

/** A queue over a real request-body reader, fed `body` in the given chunk sizes. */
function queueOf(body: Buffer, cuts: number[]): ByteQueue {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    if (at >= body.length) break;
    chunks.push(body.subarray(at, at + c));
    at += c;
  }
  if (at < body.length) chunks.push(body.subarray(at));
  const stream = Readable.from(chunks, { objectMode: false });
  return new ByteQueue(new RequestBody(stream as unknown as IncomingMessage));
}

const cuts = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 40 });
const boundaryArb = fc.string({
  unit: fc.constantFrom(..."abcXYZ0123456789'()+_-.=?"),
  minLength: 1,
  maxLength: 70,
});
const nameArb = fc.string({
  unit: fc.constantFrom(..."abcdefxyz0123456789._-"),
  minLength: 1,
  maxLength: 20,
});

test("multipart: a well-formed upload gives back its file part exactly, however it is cut", async () => {
  const upload = record({
    boundary: boundaryArb,
    fields: fc.array(fc.tuple(nameArb, fc.uint8Array({ maxLength: 40 })), { maxLength: 3 }),
    fileName: nameArb,
    content: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
    preamble: fc.constantFrom("", "preamble line\r\n"),
    cuts,
  });
  await fc.assert(
    fc.asyncProperty(upload, async (u) => {
      fc.pre(!u.content.includes(`\r\n--${u.boundary}`) && u.fileName !== "." && u.fileName !== "..");
      for (const [, v] of u.fields) fc.pre(!Buffer.from(v).includes(`\r\n--${u.boundary}`));
      const part = (headers: string, data: Uint8Array) =>
        Buffer.concat([Buffer.from(`--${u.boundary}\r\n${headers}\r\n\r\n`), data, Buffer.from("\r\n")]);
      const body = Buffer.concat([
        Buffer.from(u.preamble),
        ...u.fields.map(([name, v]) => part(`Content-Disposition: form-data; name="${name}"`, v)),
        part(
          `Content-Disposition: form-data; name="file"; filename="${u.fileName}"\r\nContent-Type: application/x-test`,
          u.content,
        ),
        Buffer.from(`--${u.boundary}--\r\n`),
      ]);
      const got = await readMultipart(
        queueOf(body, u.cuts),
        `multipart/form-data; boundary="${u.boundary}"`,
        new Map(),
        1 << 20,
      );
      assert.ok(got.data.equals(u.content), "file bytes");
      assert.equal(got.fileName, u.fileName);
      assert.equal(got.contentType, "application/x-test");
    }),
    { numRuns: RUNS },
  );
});

test("multipart: any body and Content-Type give a result or a GoError", async () => {
  const valid = Buffer.from(
    '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--xyz--\r\n',
  );
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.nat(valid.length).map((n) => valid.subarray(0, n)),
    fc
      .array(fc.tuple(fc.nat(valid.length - 1), fc.constantFrom(...'-\r\n \t:;="x\0')), { maxLength: 5 })
      .map((edits) => {
        const copy = Buffer.from(valid);
        for (const [at, c] of edits) copy[at] = c.charCodeAt(0);
        return copy;
      }),
    fc
      .array(fc.constantFrom("--xyz", "\r\n", "\n", "--", "Content-Type: a/b", ": ", " ", "x"), {
        maxLength: 30,
      })
      .map((pieces) => Buffer.from(pieces.join(""))),
  );
  const contentType = fc.oneof(
    fc.constant("multipart/form-data; boundary=xyz"),
    fc.constant("multipart/mixed; boundary=xyz"),
    fc.string(),
    boundaryArb.map((b) => `multipart/form-data; boundary=${b}`),
  );
  await fc.assert(
    fc.asyncProperty(body, contentType, cuts, fc.constantFrom(3, 1 << 20), async (b, ct, c, limit) => {
      await onlyOwnErrorsAsync(() => readMultipart(queueOf(b, c), ct, new Map(), limit), [GoError]);
    }),
    { numRuns: RUNS },
  );
});
