// parseUpload against real requests: a loopback http.Server parses what fetch sends. Expected values
// follow weed's ParseUpload (weed/storage/needle/needle_parse_upload.go) and were checked against the
// pinned weed's own function fed the same requests.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { type ParsedUpload, parseUpload, UploadError } from "../../src/server/http/upload.js";

const LIMIT = 1024;
const FID = "3,01637037d6";

type Outcome = { ok: true; upload: ParsedUpload } | { ok: false; status: number; error: string };

let server: Server;
let base = "";
const outcomes: Outcome[] = [];

before(async () => {
  // Go's servers take 1 MiB of headers (http.DefaultMaxHeaderBytes); Node's default is 16 KiB.
  server = createServer({ maxHeaderSize: 1 << 20 }, async (req, res) => {
    let outcome: Outcome;
    try {
      outcome = { ok: true, upload: await parseUpload(req, { fileSizeLimitBytes: LIMIT }) };
    } catch (err) {
      assert.ok(err instanceof UploadError, `not an UploadError: ${err}`);
      outcome = { ok: false, status: err.status, error: err.message };
    }
    outcomes.push(outcome);
    res.writeHead(outcome.ok ? 201 : outcome.status).end(String(outcomes.length - 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

async function send(path: string, init: RequestInit & { duplex?: "half" }): Promise<Outcome> {
  const res = await fetch(base + path, init);
  return outcomes[Number(await res.text())]!;
}

async function parsed(path: string, init: RequestInit & { duplex?: "half" }): Promise<ParsedUpload> {
  const outcome = await send(path, init);
  assert.ok(outcome.ok, `expected success, got ${JSON.stringify(outcome)}`);
  return outcome.upload;
}

async function refused(path: string, init: RequestInit & { duplex?: "half" }): Promise<string> {
  const outcome = await send(path, init);
  assert.ok(!outcome.ok, "expected a refusal");
  assert.equal(outcome.status, 400);
  return outcome.error;
}

const latin1 = (text: string): string => Buffer.from(text).toString("latin1");
const md5 = (data: Uint8Array): string => createHash("md5").update(data).digest("base64");
const TEXT = "the quick brown fox jumps over the lazy dog; ".repeat(10);

/** A multipart body written by hand, for part headers FormData cannot set. */
function multipart(parts: { headers: string[]; body: string | Buffer }[], boundary = "XyZ"): RequestInit {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    pieces.push(
      Buffer.from(`--${boundary}\r\n${part.headers.map((h) => `${h}\r\n`).join("")}\r\n`, "latin1"),
    );
    pieces.push(Buffer.isBuffer(part.body) ? part.body : Buffer.from(part.body));
    pieces.push(Buffer.from("\r\n"));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    method: "POST",
    headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat(pieces),
  };
}

describe("raw bodies", () => {
  test("the body is the data; the name is the URL path's last element", async () => {
    const u = await parsed(`/${FID}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: "hello",
    });
    assert.equal(u.data.toString(), "hello");
    assert.equal(u.fileName, FID);
    assert.equal(u.mimeType, "application/octet-stream"); // a raw body keeps the type it was sent with
    assert.equal(u.isGzipped, false);
    assert.equal(u.originalDataSize, 5);
    assert.equal(u.modifiedTime, 0);
    assert.equal(u.ttl, "");
    assert.deepEqual({ ...u.pairs }, {});
    assert.equal(u.pairsJson, undefined);
    assert.equal(u.isChunkManifest, false);
    assert.equal(u.contentMd5, "");
    assert.equal(u.replicate, false);
    assert.equal(u.fsync, false);
  });

  test("a PUT without a type gets the type of the name's extension", async () => {
    const u = await parsed(`/3/01637037d6/notes.txt`, { method: "PUT", body: Buffer.from("hi") });
    assert.equal(u.fileName, "notes.txt");
    assert.equal(u.mimeType, "text/plain; charset=utf-8");
    assert.equal(u.data.toString(), "hi");
  });

  test("Content-Disposition names the file (filename before name, Windows paths cut)", async () => {
    const headers = {
      "Content-Type": "text/css",
      "Content-Disposition": 'attachment; filename="C:\\web\\site.css"',
    };
    assert.equal((await parsed(`/${FID}`, { method: "POST", headers, body: "a{}" })).fileName, "site.css");
    const named = { "Content-Type": "text/css", "Content-Disposition": 'name="plain.css"' };
    assert.equal(
      (await parsed(`/${FID}`, { method: "POST", headers: named, body: "a{}" })).fileName,
      "plain.css",
    );
  });

  test("a percent-encoded path gives a decoded name", async () => {
    const u = await parsed("/3/01637037d6/%E2%82%AC%20rates.txt", { method: "PUT", body: "x" });
    assert.equal(u.fileName, "€ rates.txt");
  });

  test("an empty body is an empty file", async () => {
    const u = await parsed(`/${FID}`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "",
    });
    assert.equal(u.data.length, 0);
    assert.equal(u.originalDataSize, 0);
    assert.equal(u.isGzipped, false);
  });

  test("a POST without a Content-Type is taken as multipart, and refused", async () => {
    const error = await refused(`/${FID}`, { method: "POST", body: new Uint8Array([1, 2, 3]) });
    assert.equal(error, "request Content-Type isn't multipart/form-data");
  });

  test("an url-encoded body is form values, not data", async () => {
    const u = await parsed(`/${FID}?ts=5`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "ts=1700000000&ttl=3h",
    });
    assert.equal(u.data.length, 0);
    assert.equal(u.modifiedTime, 1700000000); // body values come before query values
    assert.equal(u.ttl, "3h");
  });
});

describe("multipart", () => {
  test("the file part is the data, with its name and type", async () => {
    const png = randomBytes(300);
    png.write("\x89PNG\r\n\x1a\n", 0, "latin1");
    const form = new FormData();
    form.append("file", new Blob([png], { type: "image/png" }), "photo.png");
    const u = await parsed(`/${FID}`, { method: "POST", body: form });
    assert.deepEqual(u.data, png);
    assert.equal(u.fileName, "photo.png");
    assert.equal(u.mimeType, "image/png");
    assert.equal(u.isGzipped, false);
    assert.equal(u.originalDataSize, 300);
  });

  test("a type the extension gives anyway, or octet-stream, yields to the extension's", async () => {
    const form = new FormData();
    form.append("file", new Blob(["body{}"], { type: "application/octet-stream" }), "site.css");
    const u = await parsed(`/${FID}`, { method: "POST", body: form });
    assert.equal(u.mimeType, "text/css; charset=utf-8");
  });

  test("a later file part wins over a leading field; Windows paths are cut", async () => {
    const u = await parsed(
      `/${FID}`,
      multipart([
        { headers: ['Content-Disposition: form-data; name="note"'], body: "not the file" },
        {
          headers: ['Content-Disposition: form-data; name="f"; filename="C:\\dir\\a.bin"'],
          body: "the file",
        },
      ]),
    );
    assert.equal(u.data.toString(), "the file");
    assert.equal(u.fileName, "a.bin");
    assert.equal(u.mimeType, "");
  });

  test("ts and ttl multipart fields are read when the query has none (SeaweedFS's suite asks it)", async () => {
    const form = new FormData();
    form.append("ts", "1700000000");
    form.append("ttl", "7d");
    form.append("file", new Blob(["x"]), "f.bin");
    const u = await parsed(`/${FID}`, { method: "POST", body: form });
    assert.equal(u.modifiedTime, 1700000000);
    assert.equal(u.ttl, "7d");
    assert.equal(u.data.toString(), "x");
    const queryWins = await parsed(`/${FID}?ttl=3h`, { method: "POST", body: form });
    assert.equal(queryWins.ttl, "3h");
  });

  test("type and fsync fields count, before or after the file; the query wins", async () => {
    const first = new FormData();
    first.append("type", "replicate");
    first.append("file", new Blob(["x"]), "f.bin");
    assert.equal((await parsed(`/${FID}`, { method: "POST", body: first })).replicate, true);
    const last = new FormData();
    last.append("file", new Blob(["x"]), "f.bin");
    last.append("type", "replicate");
    last.append("fsync", "true");
    const u = await parsed(`/${FID}`, { method: "POST", body: last });
    assert.equal(u.replicate, true);
    assert.equal(u.fsync, true);
    const queried = await parsed(`/${FID}?type=other`, { method: "POST", body: last });
    assert.equal(queried.replicate, false);
  });

  test("a body arriving a few bytes at a time, with near-delimiters in the data", async () => {
    const data = Buffer.from("a\r\n--XyZb\r\n--Xy\r\n-\r\n--XyZ-x\r\n\r", "latin1");
    const whole = Buffer.from(
      multipart([{ headers: ['Content-Disposition: form-data; name="f"; filename="s.bin"'], body: data }])
        .body as Buffer,
    );
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 0; i < whole.length; i += 3) {
          controller.enqueue(whole.subarray(i, i + 3));
          await new Promise((r) => setTimeout(r, 1));
        }
        controller.close();
      },
    });
    const u = await parsed(`/${FID}`, {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=XyZ" },
      body,
      duplex: "half",
    });
    assert.deepEqual(u.data, data);
  });

  test("malformed multipart is refused with Go's messages", async () => {
    const noBoundary = { "Content-Type": "multipart/form-data" };
    assert.equal(
      await refused(`/${FID}`, { method: "POST", headers: noBoundary, body: "not-a-valid-multipart-body" }),
      "no multipart boundary param in Content-Type",
    );
    const bounded = { "Content-Type": "multipart/form-data; boundary=XyZ" };
    assert.equal(
      await refused(`/${FID}`, { method: "POST", headers: bounded, body: "not-a-valid-multipart-body" }),
      "multipart: NextPart: EOF",
    );
    const truncated = '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="t.bin"\r\n\r\nabc';
    assert.equal(
      await refused(`/${FID}`, { method: "POST", headers: bounded, body: truncated }),
      "unexpected EOF",
    );
    const noColon = "--XyZ\r\nContent-Disposition form-data\r\n\r\nabc\r\n--XyZ--\r\n";
    assert.equal(
      await refused(`/${FID}`, { method: "POST", headers: bounded, body: noColon }),
      'malformed MIME header: missing colon: "Content-Disposition form-data"',
    );
    assert.equal(await refused(`/${FID}`, { method: "POST", headers: bounded, body: "--XyZ--\r\n" }), "EOF");
  });

  test("a PUT's multipart body is stored raw", async () => {
    const init = multipart([
      { headers: ['Content-Disposition: form-data; name="f"; filename="a.bin"'], body: "x" },
    ]);
    const u = await parsed(`/${FID}`, { ...init, method: "PUT" });
    assert.ok(u.data.toString().startsWith("--XyZ\r\n"));
    assert.equal(u.mimeType, "multipart/form-data; boundary=XyZ");
  });
});

describe("compression", () => {
  test("Content-Encoding: gzip is stored as sent, sized by its content", async () => {
    const gz = gzipSync(TEXT);
    const u = await parsed(`/${FID}`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", "Content-Encoding": "gzip" },
      body: gz,
    });
    assert.equal(u.isGzipped, true);
    assert.deepEqual(u.data, gz);
    assert.equal(u.originalDataSize, TEXT.length);
    assert.equal(u.mimeType, "text/plain");
  });

  test("gzip that Go cannot read (zero padding, not gzip at all) is sized as sent", async () => {
    for (const body of [Buffer.concat([gzipSync(TEXT), Buffer.alloc(4)]), Buffer.from("plain")]) {
      const u = await parsed(`/${FID}`, {
        method: "POST",
        headers: { "Content-Type": "text/plain", "Content-Encoding": "gzip" },
        body,
      });
      assert.equal(u.isGzipped, true);
      assert.equal(u.originalDataSize, body.length);
    }
  });

  test("a gzip part (as a replicating weed sends it) keeps its flag and is checked by its content", async () => {
    const gz = gzipSync(TEXT);
    const u = await parsed(
      `/${FID}?type=replicate`,
      multipart([
        {
          headers: [
            'Content-Disposition: form-data; name="file"; filename="t.txt"',
            "Content-Type: text/plain",
            "Content-Encoding: gzip",
            `Content-MD5: ${md5(Buffer.from(TEXT))}`,
          ],
          body: gz,
        },
      ]),
    );
    assert.equal(u.isGzipped, true);
    assert.deepEqual(u.data, gz);
    assert.equal(u.originalDataSize, TEXT.length);
    assert.equal(u.contentMd5, md5(Buffer.from(TEXT)));
    assert.equal(u.mimeType, "text/plain");
    assert.equal(u.replicate, true);
  });

  test("a compressible type is gzipped when that saves over 10%", async () => {
    for (const [path, headers] of [
      [`/${FID}`, { "Content-Type": "text/plain" }],
      [`/3/01637037d6/data.json`, {}],
      [`/${FID}`, { "Content-Type": "application/ld+json; charset=utf-8" }],
      [`/${FID}`, {}], // sniffed as text
    ] as const) {
      const u = await parsed(path, { method: "PUT", headers, body: Buffer.from(TEXT) });
      assert.equal(u.isGzipped, true, `${path} ${JSON.stringify(headers)}`);
      assert.equal(gunzipSync(u.data).toString(), TEXT);
      assert.equal(u.originalDataSize, TEXT.length);
    }
  });

  test("small, incompressible, image, archive or unknown data is stored as sent", async () => {
    const random = randomBytes(600);
    for (const [path, headers, body] of [
      [`/${FID}`, { "Content-Type": "text/plain" }, "tiny text"],
      [`/3/01637037d6/noise.txt`, {}, random],
      [`/${FID}`, { "Content-Type": "image/jpeg" }, TEXT],
      [`/3/01637037d6/a.zip`, {}, TEXT],
      [`/${FID}`, { "Content-Type": "application/x-custom" }, TEXT],
      [`/${FID}`, { "Content-Type": "application/octet-stream" }, random],
    ] as const) {
      const u = await parsed(path, { method: "PUT", headers, body: Buffer.from(body) });
      assert.equal(u.isGzipped, false, `${path} ${JSON.stringify(headers)}`);
      assert.deepEqual(u.data, Buffer.from(body));
    }
  });

  test("a replicated write keeps the data as sent", async () => {
    const u = await parsed(`/${FID}?type=replicate`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: TEXT,
    });
    assert.equal(u.isGzipped, false);
    assert.equal(u.replicate, true);
  });
});

describe("Content-MD5", () => {
  test("a matching MD5 is returned; a mismatch is refused with weed's message", async () => {
    const ok = await parsed(`/${FID}`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", "Content-MD5": md5(Buffer.from(TEXT)) },
      body: TEXT,
    });
    assert.equal(ok.contentMd5, md5(Buffer.from(TEXT)));
    assert.equal(ok.isGzipped, true); // checked against the content, then compressed
    const error = await refused(`/${FID}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", "Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA==" },
      body: "content-md5-mismatch-body",
    });
    assert.equal(
      error,
      "Content-MD5 did not match md5 of file data expected [AAAAAAAAAAAAAAAAAAAAAA==] " +
        `received [${md5(Buffer.from("content-md5-mismatch-body"))}] size 25`,
    );
  });

  test("a gzip upload is checked against its content", async () => {
    const u = await parsed(`/${FID}`, {
      method: "POST",
      headers: {
        "Content-Type": "text/plain",
        "Content-Encoding": "gzip",
        "Content-MD5": md5(Buffer.from(TEXT)),
      },
      body: gzipSync(TEXT),
    });
    assert.equal(u.contentMd5, md5(Buffer.from(TEXT)));
  });
});

describe("query and headers", () => {
  test("ts, ttl and cm", async () => {
    const u = await parsed(`/3/01637037d6/m.json?ts=1700000000&ttl=7d&cm=true`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: "[]",
    });
    assert.equal(u.modifiedTime, 1700000000);
    assert.equal(u.ttl, "7d");
    assert.equal(u.isChunkManifest, true);
    assert.equal(u.mimeType, "application/octet-stream"); // a manifest's type is not taken from its name
    const loose = await parsed(`/${FID}?ts=-5&cm=yes&ttl=bogus`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "x",
    });
    assert.equal(loose.modifiedTime, 0);
    assert.equal(loose.isChunkManifest, false);
    assert.equal(loose.ttl, "bogus"); // raw: weed reads it as no TTL
    const escaped = await parsed(`/${FID}?%74s=7&fsync=%74rue&cm=T`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "x",
    });
    assert.equal(escaped.modifiedTime, 7);
    assert.equal(escaped.fsync, true);
    assert.equal(escaped.isChunkManifest, true);
  });

  test("a malformed query is refused as Go's form parsing refuses it", async () => {
    const init = { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" };
    assert.equal(await refused(`/${FID}?a=1;b=2`, init), "invalid semicolon separator in query");
    assert.equal(await refused(`/${FID}?a=%zz`, init), 'invalid URL escape "%zz"');
    const badType = { method: "POST", headers: { "Content-Type": "text/plain; charset" }, body: "x" };
    assert.equal(await refused(`/${FID}`, badType), "mime: invalid media parameter");
  });

  test("Seaweed-* headers are pairs, the prefix cut; their JSON is Go's", async () => {
    const u = await parsed(`/${FID}`, {
      method: "POST",
      // Header bytes are UTF-8 text here; fetch sends each char of the value as one byte.
      headers: { "Content-Type": "text/plain", "seaweed-foo-bar": "v1", "Seaweed-A": latin1("<&> é") },
      body: "x",
    });
    assert.deepEqual({ ...u.pairs }, { "Foo-Bar": "v1", A: "<&> é" });
    assert.equal(u.pairsJson?.toString(), '{"A":"\\u003c\\u0026\\u003e é","Foo-Bar":"v1"}');
  });

  test("pairs of 64 KiB or more of JSON are not kept", async () => {
    const headers: Record<string, string> = { "Content-Type": "text/plain" };
    for (let i = 0; i < 9; i++) headers[`Seaweed-K${i}`] = "v".repeat(7500);
    const u = await parsed(`/${FID}`, { method: "POST", headers, body: "x" });
    assert.equal(Object.keys(u.pairs).length, 9);
    assert.equal(u.pairsJson, undefined);
  });
});

describe("size limit", () => {
  const octet = { "Content-Type": "application/octet-stream" };

  test("a file of the limit is taken; one byte more is refused with weed's 400", async () => {
    const exact = await parsed(`/${FID}`, { method: "POST", headers: octet, body: randomBytes(LIMIT) });
    assert.equal(exact.data.length, LIMIT);
    const message = `file over the limited ${LIMIT} bytes`;
    assert.equal(
      await refused(`/${FID}`, { method: "POST", headers: octet, body: randomBytes(LIMIT + 1) }),
      message,
    );
  });

  test("a chunked body and a multipart file part are held to it as well", async () => {
    const message = `file over the limited ${LIMIT} bytes`;
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(randomBytes(200));
        controller.close();
      },
    });
    const init = { method: "POST", headers: octet, body: chunks, duplex: "half" as const };
    assert.equal(await refused(`/${FID}`, init), message);
    const form = new FormData();
    form.append("file", new Blob([randomBytes(LIMIT + 1)]), "big.bin");
    assert.equal(await refused(`/${FID}`, { method: "POST", body: form }), message);
    // The refused bodies were drained: the connection still serves requests.
    assert.equal(
      (await parsed(`/${FID}`, { method: "POST", headers: octet, body: "ok" })).data.toString(),
      "ok",
    );
  });

  test("a large upload arrives whole", async () => {
    const big = randomBytes(4 << 20);
    const roomy = createServer(async (req, out) => {
      const u = await parseUpload(req, { fileSizeLimitBytes: 8 << 20 });
      out.end(createHash("md5").update(u.data).digest("base64"));
    });
    await new Promise<void>((resolve) => roomy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (roomy.address() as AddressInfo).port;
      const again = new FormData();
      again.append("file", new Blob([big]), "big.bin");
      const sum = await (
        await fetch(`http://127.0.0.1:${port}/${FID}`, { method: "POST", body: again })
      ).text();
      assert.equal(sum, md5(big));
    } finally {
      roomy.closeAllConnections();
      roomy.close();
    }
  });
});
