// The read path's pure helpers against weed's behaviour. Expected values were taken from the pinned
// weed (weed/server/common.go ProcessRangeRequest + writeResponseContent, driven through a real Go
// HTTP server) and from Go's own mime, time and net/http functions.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkConditional,
  etagListMatches,
  httpDate,
  ifRangeMatches,
  needleEtag,
  parseHttpDate,
  parseHttpTime,
} from "../../src/server/http/conditional.js";
import {
  contentDisposition,
  contentHeaders,
  extOf,
  headerValue,
  mimeByExtension,
  parseGoBool,
  parseReadQuery,
  responseMimeType,
  sniffContentType,
} from "../../src/server/http/content-type.js";
import { planRange, type RangePlan } from "../../src/server/http/range.js";

const BODY = Buffer.from("0123456789abcdef");
const ETAG = '"0a1b2c3d"';
const LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"; // 1700000000
const B = "6332bd117d655d628a5a8ccbc87d96c5aade5550c8c6ead84b43cd0ade23";

function plan(range: string | undefined, size = 16, partType = "", encoded = false): RangePlan {
  return planRange({ range }, size, partType, encoded, B);
}

/** The bytes a handler following the plan would send for BODY. */
function wire(p: RangePlan, body: Buffer = BODY): string {
  if (p.body !== undefined) return p.body;
  let out = "";
  p.ranges.forEach((r, i) => {
    out += (p.partHeads?.[i] ?? "") + body.subarray(r.start, r.start + r.length).toString("latin1");
  });
  return out + (p.tail ?? "");
}

describe("range (common.go ProcessRangeRequest, volume_server_handlers_helper.go parseRange)", () => {
  test("no Range: the whole body", () => {
    for (const h of [undefined, ""]) {
      const p = plan(h);
      assert.equal(p.status, 200);
      assert.deepEqual(p.ranges, [{ start: 0, length: 16 }]);
      assert.deepEqual(p.headers, { "Content-Length": "16" });
    }
  });

  test("one range: 206 with Content-Range and its length", () => {
    const cases: Array<[string, string, string]> = [
      ["bytes=0-1", "bytes 0-1/16", "01"],
      ["bytes=-4", "bytes 12-15/16", "cdef"],
      ["bytes=10-", "bytes 10-15/16", "abcdef"],
      ["bytes=-20", "bytes 0-15/16", "0123456789abcdef"],
      ["bytes=-9223372036854775807", "bytes 0-15/16", "0123456789abcdef"],
      ["bytes=0-9223372036854775807", "bytes 0-15/16", "0123456789abcdef"],
      ["bytes=+3-4", "bytes 3-4/16", "34"],
      ["bytes=-+3", "bytes 13-15/16", "def"],
      ["bytes= 2 - 3 ,", "bytes 2-3/16", "23"],
      ["bytes=00001-00002", "bytes 1-2/16", "12"],
      ["bytes=0--0", "bytes 0-0/16", "0"],
      // Specs that do not overlap are dropped; one range left is not multipart.
      ["bytes=1-2,-0", "bytes 1-2/16", "12"],
      ["bytes=0-1,20-30", "bytes 0-1/16", "01"],
    ];
    for (const [range, contentRange, sent] of cases) {
      const p = plan(range);
      assert.equal(p.status, 206, range);
      assert.deepEqual(
        p.headers,
        { "Content-Length": `${sent.length}`, "Content-Range": contentRange },
        range,
      );
      assert.equal(wire(p), sent, range);
    }
  });

  test("several ranges: multipart/byteranges byte for byte as Go writes it", () => {
    // range_variants_test.go TestMultiRangeReadReturnsMultipartPayload; no type → "Content-Type: ".
    const p = plan("bytes=0-1,4-5");
    assert.equal(p.status, 206);
    assert.deepEqual(p.headers, {
      "Content-Type": `multipart/byteranges; boundary=${B}`,
      "Content-Length": "296",
    });
    const body = `--${B}\r\nContent-Range: bytes 0-1/16\r\nContent-Type: \r\n\r\n01\r\n--${B}\r\nContent-Range: bytes 4-5/16\r\nContent-Type: \r\n\r\n45\r\n--${B}--\r\n`;
    assert.equal(wire(p), body);
    assert.equal(body.length, 296);

    const typed = plan("bytes=0-1,4-5", 16, "text/plain");
    assert.equal(typed.headers["Content-Length"], "316");
    assert.equal(wire(typed), body.replaceAll("Content-Type: \r\n", "Content-Type: text/plain\r\n"));
  });

  test("ranges are neither sorted nor merged; empty specs are skipped", () => {
    const parts = (range: string) => plan(range, 16, "text/plain").ranges;
    assert.deepEqual(parts("bytes=4-5,0-1"), [
      { start: 4, length: 2 },
      { start: 0, length: 2 },
    ]);
    assert.deepEqual(parts("bytes=0-1,0-1"), [
      { start: 0, length: 2 },
      { start: 0, length: 2 },
    ]);
    assert.deepEqual(parts("bytes=0-1,,3-4"), [
      { start: 0, length: 2 },
      { start: 3, length: 2 },
    ]);
    assert.equal(plan("bytes=0-1,,3-4", 16, "text/plain").headers["Content-Length"], "316");
  });

  test("ranges adding up past the content, or none at all: 200 with an empty body", () => {
    // range_variants_test.go TestOversizedCombinedRangesAreIgnored
    for (const range of ["bytes=0-10,5-15", "bytes=", "bytes= , ,"]) {
      const p = plan(range);
      assert.equal(p.status, 200, range);
      assert.deepEqual(p.ranges, []);
      assert.deepEqual(p.headers, { "Content-Length": "0" });
    }
  });

  test("nothing overlapping: 416 with Content-Range bytes */size", () => {
    const cases: Array<[string, number]> = [
      ["bytes=16-", 16],
      ["bytes=-0", 16],
      ["bytes=-0,-0", 16],
      ["bytes=0-", 0],
      ["bytes=-5", 0],
    ];
    for (const [range, size] of cases) {
      const p = plan(range, size);
      assert.equal(p.status, 416, range);
      assert.deepEqual(p.ranges, []);
      assert.equal(p.body, "invalid range: failed to overlap\n");
      assert.deepEqual(p.headers, {
        "Content-Range": `bytes */${size}`,
        "Content-Type": "text/plain; charset=utf-8",
        "X-Content-Type-Options": "nosniff",
        "Content-Length": "33",
      });
    }
  });

  test("malformed: 416 without Content-Range", () => {
    for (const range of [
      "bytes=5-2",
      "items=0-1",
      "Bytes=0-1",
      "bytes=--5",
      "bytes=5",
      "bytes=-",
      "bytes=3-4 5",
      "bytes=0x1-2",
      "bytes=1_0-12",
      "bytes=99999999999999999999-",
      "bytes=-99999999999999999999",
      "bytes=0-99999999999999999999",
      "bytes=3--4",
      "bytes=0-1,x",
    ]) {
      const p = plan(range);
      assert.equal(p.status, 416, range);
      assert.equal(p.body, "invalid range\n");
      assert.deepEqual(p.headers, {
        "Content-Type": "text/plain; charset=utf-8",
        "X-Content-Type-Options": "nosniff",
        "Content-Length": "14",
      });
    }
  });

  test("If-Range: a strong equal ETag or an equal date keeps the range, anything else sends all", () => {
    const run = (ifRange: string, lastModified: string | undefined = LAST_MODIFIED) =>
      planRange({ range: "bytes=3-4", ifRange, etag: ETAG, lastModified }, 16, "").status;
    const noLastModified = (ifRange: string) =>
      planRange({ range: "bytes=3-4", ifRange, etag: ETAG }, 16, "").status;
    assert.equal(run(ETAG), 206);
    assert.equal(run('"zzz"'), 200);
    assert.equal(run('W/"0a1b2c3d"'), 200);
    assert.equal(run(LAST_MODIFIED), 206);
    assert.equal(run("Tuesday, 14-Nov-23 22:13:20 GMT"), 206);
    assert.equal(run("Tue Nov 14 22:13:20 2023"), 206);
    assert.equal(run("Tue, 14 Nov 2023 22:13:21 GMT"), 200);
    assert.equal(run("Tue, 14 Nov 2023 22:13:20.5 GMT"), 200);
    assert.equal(noLastModified(LAST_MODIFIED), 200);
    assert.equal(noLastModified(ETAG), 206);
    assert.equal(run("not a date"), 200);
    assert.equal(run(""), 206);
    const full = planRange({ range: "bytes=3-4", ifRange: '"zzz"', etag: ETAG }, 16, "");
    assert.deepEqual(full.headers, { "Content-Length": "16" });
  });

  test("multipart with a Content-Encoding: Content-Length only while Go still buffers (2048 bytes)", () => {
    assert.equal(plan("bytes=0-1,4-5", 16, "", true).headers["Content-Length"], "296");
    // Measured against weed with ?response-content-encoding=br over 3000 bytes.
    const at = plan("bytes=0-871,872-1724", 3000, "text/plain", true);
    assert.equal(at.headers["Content-Length"], "2048");
    assert.equal(wire(at, Buffer.alloc(3000, "x")).length, 2048);
    assert.equal(plan("bytes=0-871,872-1725", 3000, "text/plain", true).headers["Content-Length"], undefined);
    assert.equal(plan("bytes=0-871,872-1725", 3000, "text/plain", false).headers["Content-Length"], "2049");
  });

  test("a fresh boundary is 30 random bytes in hex, as Go's multipart writer makes it", () => {
    const a = planRange({ range: "bytes=0-1,4-5" }, 16, "");
    const b = planRange({ range: "bytes=0-1,4-5" }, 16, "");
    assert.match(a.headers["Content-Type"]!, /^multipart\/byteranges; boundary=[0-9a-f]{60}$/);
    assert.notEqual(a.headers["Content-Type"], b.headers["Content-Type"]);
    assert.equal(a.headers["Content-Length"], "296");
  });
});

describe("conditional (volume_server_handlers_read.go notModified, filer_server_handlers_read.go etagListMatches)", () => {
  test("ETag: the checksum as 8 hex digits, quoted", () => {
    assert.equal(needleEtag(0x0a1b2c3d), ETAG);
    assert.equal(needleEtag(0), '"00000000"');
    assert.equal(needleEtag(0xffffffff), '"ffffffff"');
    assert.equal(needleEtag(-1), '"ffffffff"');
  });

  test("Last-Modified: http.TimeFormat in UTC", () => {
    const cases: Array<[number, string]> = [
      [0, "Thu, 01 Jan 1970 00:00:00 GMT"],
      [1700000000, LAST_MODIFIED],
      [951782400, "Tue, 29 Feb 2000 00:00:00 GMT"],
      [253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"],
      [253402300800, "Sat, 01 Jan 10000 00:00:00 GMT"],
      [2 ** 40, "Mon, 20 Feb 36812 00:36:16 GMT"],
    ];
    for (const [seconds, text] of cases) {
      assert.equal(httpDate(seconds), text);
      assert.equal(httpDate(seconds), text); // cached
    }
  });

  const check = (headers: Record<string, string | undefined>, lm = 1700000000) =>
    checkConditional(headers, ETAG, lm);

  test("If-None-Match decides alone when present, with the weak comparison", () => {
    const matching = [
      ETAG,
      "0a1b2c3d",
      'W/"0a1b2c3d"',
      '"zz", "0a1b2c3d"',
      "*",
      '"a,b", "0a1b2c3d"',
      '"0a1b2c3d',
    ];
    for (const inm of matching) assert.equal(check({ "if-none-match": inm }), "not-modified", inm);
    for (const inm of ['"zz"', 'W/ "0a1b2c3d"', '*, "zz"', ",", '""', ""]) {
      assert.equal(check({ "if-none-match": inm }), "proceed", inm);
    }
    // read_path_variants_test.go TestConditionalHeaderPrecedenceAndInvalidIfModifiedSince
    assert.equal(check({ "if-none-match": '"different"', "if-modified-since": LAST_MODIFIED }), "proceed");
    // Even an empty If-None-Match line shuts If-Modified-Since out.
    assert.equal(check({ "if-none-match": "", "if-modified-since": LAST_MODIFIED }), "proceed");
    // Two header lines, as Node joins them.
    assert.equal(check({ "if-none-match": `"zz", ${ETAG}` }), "not-modified");
    assert.equal(checkConditional({ "if-none-match": ['"zz"', ETAG] }, "0a1b2c3d", 0), "not-modified");
    assert.equal(etagListMatches('  "a" ,W/"b" ', '"b"'), true);
  });

  test("If-Modified-Since: exact IMF-fixdate only, 304 when at or after Last-Modified", () => {
    const notModified = [
      LAST_MODIFIED,
      "Wed, 14 Nov 2023 22:13:20 GMT", // the weekday is not checked
      "tue, 14 nov 2023 22:13:20 GMT",
      "Tue, 14 Nov 2023 22:13:20.5 GMT",
      "Tue, 14 Nov 2023 22:13:20,9 GMT",
      "Tue,  14 Nov 2023 22:13:20 GMT",
      "Tue, 14 Nov 2023 22:13:20  GMT",
      "Thu, 29 Feb 2024 00:00:00 GMT",
    ];
    for (const ims of notModified) assert.equal(check({ "if-modified-since": ims }), "not-modified", ims);
    const proceed = [
      "Tue, 14 Nov 2023 22:13:19 GMT",
      "Tue, 14 Nov 2023 22:13:20 gmt",
      "Tue, 14 Nov 2023 2:13:20 GMT", // parses, but that is 20 hours earlier
      "Tue, 4 Nov 2023 22:13:20 GMT",
      "Tue,14 Nov 2023 22:13:20 GMT",
      "Xyz, 14 Nov 2023 22:13:20 GMT",
      "Tue, 14 Nov 2023 22:13:20. GMT",
      "Tuesday, 14-Nov-23 22:13:20 GMT",
      "Tue, 31 Feb 2024 22:13:20 GMT",
      "Tue, 14 Nov 2023 24:13:20 GMT",
      "not-a-valid-http-date",
    ];
    for (const ims of proceed) assert.equal(check({ "if-modified-since": ims }), "proceed", ims);
    // No Last-Modified (0): If-Modified-Since is ignored.
    assert.equal(check({ "if-modified-since": LAST_MODIFIED }, 0), "proceed");
    assert.equal(check({}), "proceed");
  });

  test("date parsing: Go's time.Parse(http.TimeFormat) and http.ParseTime", () => {
    // [text, time.Parse(http.TimeFormat), http.ParseTime] as `${sec}.${nsec}`, undefined for an error
    const cases: Array<[string, string | undefined, string | undefined]> = [
      [LAST_MODIFIED, "1700000000.0", "1700000000.0"],
      ["TUE, 14 NOV 2023 22:13:20 GMT", "1700000000.0", "1700000000.0"],
      ["Tue, 14 Nov 2023 22:13:20.123456789123 GMT", "1700000000.123456789", "1700000000.123456789"],
      ["Tue, 14 Nov 2023 22:13:20,000000001 GMT", "1700000000.1", "1700000000.1"],
      ["Tue, 14 Nov 2023 2:13:20 GMT", "1699928000.0", "1699928000.0"],
      ["Tue,   14   Nov   2023   22:13:20   GMT", "1700000000.0", "1700000000.0"],
      ["Tue, 14 Nov 2023 22:13:20 UTC", undefined, undefined],
      ["Tue, 14 Nov 2023 22:13:20 GMT ", undefined, undefined],
      ["Tue, 14 Nov 2023 22:13:2 GMT", undefined, undefined],
      ["Tue, 14 Nov 2023 22:3:20 GMT", undefined, undefined],
      ["Sun, 00 Nov 2023 22:13:20 GMT", undefined, undefined],
      ["Mon, 29 Feb 2023 00:00:00 GMT", undefined, undefined],
      ["Sat, 01 Jan 0000 00:00:00 GMT", "-62167219200.0", "-62167219200.0"],
      ["Fri, 31 Dec 9999 23:59:59 GMT", "253402300799.0", "253402300799.0"],
      ["Wed, 31 Dec 1969 23:59:59 GMT", "-1.0", "-1.0"],
      ["Tue, 14 Nov 2023 23:59:60 GMT", undefined, undefined],
      ["Tue, 14 Nov 2023 22:13:20 GMTX", undefined, undefined],
      ["Tue, 14 Nov +023 22:13:20 GMT", undefined, undefined],
      ["Tuesday, 14-Nov-23 22:13:20 GMT", undefined, "1700000000.0"],
      ["tuesday, 14-nov-69 22:13:20 GMT", undefined, "-4067200.0"],
      ["Tuesday, 14-Nov-68 22:13:20 UTC", undefined, "3120156800.0"],
      ["Tuesday, 14-Nov-23 22:13:20 PST", undefined, "1700000000.0"],
      ["Tuesday, 14-Nov-23 22:13:20 GMT+3", undefined, "1700000000.0"],
      ["Tuesday, 14-Nov-23 22:13:20 GMT-11", undefined, "1700000000.0"],
      ["Tuesday, 14-Nov-23 22:13:20 XYZT", undefined, "1700000000.0"],
      ["Tuesday, 14-Nov-23 22:13:20 +0100", undefined, undefined],
      ["Tuesday, 14-Nov-23 22:13:20 Gmt", undefined, undefined],
      ["Tuesday, 14-Nov-+3 22:13:20 GMT", undefined, "1068848000.0"],
      ["Tue Nov 14 22:13:20 2023", undefined, "1700000000.0"],
      ["Tue Nov  4 22:13:20 2023", undefined, "1699136000.0"],
      ["Tue Nov 4 22:13:20 2023", undefined, "1699136000.0"],
      ["Tue Nov 04 22:13:20 2023", undefined, "1699136000.0"],
      ["Tue Nov 14 22:13:20.25 2023", undefined, "1700000000.250000000"],
    ];
    const show = (t: { sec: number; nsec: number } | undefined) => (t ? `${t.sec}.${t.nsec}` : undefined);
    for (const [text, strict, any] of cases) {
      assert.equal(show(parseHttpDate(text)), strict, `time.Parse ${text}`);
      assert.equal(show(parseHttpTime(text)), any, `http.ParseTime ${text}`);
    }
  });

  test("ifRangeMatches on its own", () => {
    assert.equal(ifRangeMatches(undefined, ETAG, LAST_MODIFIED), true);
    assert.equal(ifRangeMatches("  ", ETAG, LAST_MODIFIED), true);
    assert.equal(ifRangeMatches(ETAG, undefined, LAST_MODIFIED), false);
    assert.equal(ifRangeMatches('W/"x"', 'W/"x"', LAST_MODIFIED), false);
    assert.equal(ifRangeMatches(LAST_MODIFIED, ETAG, "garbage"), false);
  });
});

describe("content type (volume_server_handlers_read.go writeResponseContent, Go's mime and sniffing)", () => {
  test("mime.TypeByExtension's built-in table, any case", () => {
    const cases: Array<[string, string]> = [
      [".jpg", "image/jpeg"],
      [".JPG", "image/jpeg"],
      [".jpeg", "image/jpeg"],
      [".png", "image/png"],
      [".gif", "image/gif"],
      [".webp", "image/webp"],
      [".txt", "text/plain; charset=utf-8"],
      [".Txt", "text/plain; charset=utf-8"],
      [".html", "text/html; charset=utf-8"],
      [".htm", "text/html; charset=utf-8"],
      [".css", "text/css; charset=utf-8"],
      [".js", "text/javascript; charset=utf-8"],
      [".mjs", "text/javascript; charset=utf-8"],
      [".json", "application/json"],
      [".pdf", "application/pdf"],
      [".mp4", "video/mp4"],
      [".svg", "image/svg+xml"],
      [".wasm", "application/wasm"],
      [".xml", "text/xml; charset=utf-8"],
      [".zip", "application/zip"],
      [".gz", "application/gzip"],
      [".avif", "image/avif"],
      [".ico", "image/vnd.microsoft.icon"],
      [".csv", "text/csv; charset=utf-8"],
      [".webm", "audio/webm"],
      [".mp3", "audio/mpeg"],
      [".wav", "audio/wav"],
      [".bin", "application/octet-stream"],
      [".t\u0130f", "image/tiff"],
      [".unknownext", ""],
      [".", ""],
    ];
    for (const [ext, type] of cases) assert.equal(mimeByExtension(ext), type, ext);
  });

  test("filepath.Ext", () => {
    assert.equal(extOf("report.txt"), ".txt");
    assert.equal(extOf("x.tar.gz"), ".gz");
    assert.equal(extOf(".bashrc"), ".bashrc");
    assert.equal(extOf("a.b/c"), "");
    assert.equal(extOf("noext"), "");
  });

  test("stored mime first unless octet-stream, else the file name's extension, else none", () => {
    assert.equal(responseMimeType("image/png", "photo.jpg"), "image/png");
    assert.equal(responseMimeType("application/octet-stream", "photo.jpg"), "image/jpeg");
    assert.equal(responseMimeType("application/octet-stream; x=1", "photo.JPG"), "image/jpeg");
    assert.equal(responseMimeType("", "report.txt"), "text/plain; charset=utf-8");
    assert.equal(responseMimeType("", Buffer.from("doc.pdf")), "application/pdf");
    assert.equal(responseMimeType("", "noext"), "");
    assert.equal(responseMimeType("", ""), "");
    assert.equal(responseMimeType("application/octet-stream", ""), "");
  });

  test("sniffing: http.DetectContentType", () => {
    const cases: Array<[string, string]> = [
      ["", "text/plain; charset=utf-8"],
      ["hello", "text/plain; charset=utf-8"],
      ["  <html><body>", "text/html; charset=utf-8"],
      ["<HTML>", "text/html; charset=utf-8"],
      ["<htmlx", "text/plain; charset=utf-8"],
      ["<!-- c -->", "text/html; charset=utf-8"],
      ["<!DOCTYPE html>", "text/html; charset=utf-8"],
      ["<P>", "text/html; charset=utf-8"],
      ["<p\n", "text/plain; charset=utf-8"],
      ["<br>", "text/html; charset=utf-8"],
      ["<b>", "text/html; charset=utf-8"],
      ["<a href", "text/html; charset=utf-8"],
      ["<?xml version", "text/xml; charset=utf-8"],
      [" \n<?xml", "text/xml; charset=utf-8"],
      ["<svg xmlns", "text/plain; charset=utf-8"],
      ['{"a":1}', "text/plain; charset=utf-8"],
      ["%PDF-1.4", "application/pdf"],
      ["%!PS-Adobe-3.0", "application/postscript"],
      ["\x89PNG\r\n\x1a\n....", "image/png"],
      ["\xff\xd8\xff\xe0", "image/jpeg"],
      ["GIF89a", "image/gif"],
      ["BM", "image/bmp"],
      ["\x00\x00\x01\x00", "image/x-icon"],
      ["RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"],
      ["\x1f\x8b\x08\x00", "application/x-gzip"],
      ["PK\x03\x04", "application/zip"],
      ["\x00asm\x01", "application/wasm"],
      ["\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"],
      ["\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom", "application/octet-stream"],
      ["OggS\x00", "application/ogg"],
      ["ID3\x03", "audio/mpeg"],
      ["\x1a\x45\xdf\xa3", "video/webm"],
      ["wOFF", "font/woff"],
      ["\x01\x02binary", "application/octet-stream"],
      ["text\x1bwith esc", "text/plain; charset=utf-8"],
      ["\xef\xbb\xbfbom", "text/plain; charset=utf-8"],
      ["\xfe\xff\x00a", "text/plain; charset=utf-16be"],
    ];
    for (const [data, type] of cases) {
      assert.equal(sniffContentType(Buffer.from(data, "latin1")), type, JSON.stringify(data));
    }
    // Only the first 512 bytes count.
    const late = Buffer.concat([Buffer.alloc(512, "a"), Buffer.from([1])]);
    assert.equal(sniffContentType(late), "text/plain; charset=utf-8");
  });

  test("Content-Disposition: mime.FormatMediaType", () => {
    const cases: Array<[string | Uint8Array, string]> = [
      ["report.txt", "filename=report.txt"],
      ["my file.txt", 'filename="my file.txt"'],
      ['a"b\\c.txt', 'filename="a\\"b\\\\c.txt"'],
      ["résumé.pdf", "filename*=utf-8''r%C3%A9sum%C3%A9.pdf"],
      ["a*b'c%d(e).txt", 'filename="a*b\'c%d(e).txt"'],
      ["tab\tx.txt", 'filename="tab\tx.txt"'],
      ["nl\nx", "filename*=utf-8''nl%0Ax"],
      ["a;b=c", 'filename="a;b=c"'],
      ["a.b/c", 'filename="a.b/c"'],
      ["日本語.txt", "filename*=utf-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt"],
      [Buffer.from([0xff, 0xfe, 0x2e, 0x62, 0x69, 0x6e]), "filename*=utf-8''%FF%FE.bin"],
      [Buffer.from("résumé.pdf"), "filename*=utf-8''r%C3%A9sum%C3%A9.pdf"],
      ["~!#$&+-.^_`{|}", "filename=~!#$&+-.^_`{|}"],
      ["x y*z'%ü", "filename*=utf-8''x%20y%2Az%27%25%C3%BC"],
      ["a\x7fb", "filename*=utf-8''a%7Fb"],
    ];
    for (const [name, param] of cases) {
      assert.equal(contentDisposition(name, false), `inline; ${param}`, String(name));
      assert.equal(contentDisposition(name, true), `attachment; ${param}`, String(name));
    }
  });

  test("dl: strconv.ParseBool", () => {
    for (const s of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(parseGoBool(s), true, s);
    for (const s of ["tRUE", "yes", "0", "f", "on", " true", "", undefined])
      assert.equal(parseGoBool(s), false, s);
  });

  test("the query as url.ParseQuery reads it", () => {
    assert.deepEqual(parseReadQuery(""), { dl: undefined, overrides: [] });
    assert.equal(parseReadQuery("dl=true").dl, "true");
    assert.equal(parseReadQuery("dl").dl, "");
    assert.equal(parseReadQuery("dl=&dl=1").dl, ""); // the first value
    assert.equal(parseReadQuery("dl=1;x=2").dl, undefined); // a pair with ";" is dropped
    assert.equal(parseReadQuery("%64l=1").dl, "1");
    assert.equal(parseReadQuery("dl=%zz").dl, undefined); // bad escape drops the pair
    assert.equal(parseReadQuery("DL=1").dl, undefined); // dl is case-sensitive
    assert.equal(parseReadQuery("x=1&&dl=a+b").dl, "a b");
    assert.deepEqual(
      parseReadQuery(
        "RESPONSE-CONTENT-TYPE=a/b&Response-Expires=soon&response-content-language=fr&response-content-encoding=identity&response-foo=1&response-cache-control=no-store&response-content-disposition=attachment%3B+filename%3Dz.bin",
      ).overrides,
      [
        ["Content-Type", "a/b"],
        ["Expires", "soon"],
        ["Content-Language", "fr"],
        ["Content-Encoding", "identity"],
        ["Cache-Control", "no-store"],
        ["Content-Disposition", "attachment; filename=z.bin"],
      ],
    );
    const one = (q: string) => parseReadQuery(q).overrides;
    assert.deepEqual(one("response-content-type=a/b&response-content-type=c/d"), [["Content-Type", "a/b"]]);
    assert.deepEqual(one("response-content-type=&x=1"), [["Content-Type", ""]]);
    assert.deepEqual(one("response-content-type=a%0D%0AX-Evil:%201"), [["Content-Type", "a  X-Evil: 1"]]);
    assert.deepEqual(one("response-content-type=%20%20a/b%20%09"), [["Content-Type", "a/b"]]);
    assert.deepEqual(one("response-content-type=caf%C3%A9"), [["Content-Type", "caf\xc3\xa9"]]);
    // Go would send the NUL raw; Node cannot, so it becomes a space.
    assert.deepEqual(one("response-content-type=a%00b"), [["Content-Type", "a b"]]);
    // Over 10000 parameters Go parses none.
    assert.equal(parseReadQuery(`dl=1${"&x".repeat(9999)}`).dl, "1");
    assert.equal(parseReadQuery(`dl=1${"&x".repeat(10000)}`).dl, undefined);
  });

  test("headerValue leaves clean values alone", () => {
    const v = "text/plain; charset=utf-8";
    assert.equal(headerValue(v), v);
    assert.equal(headerValue(""), "");
    assert.equal(headerValue(" a\tb "), "a\tb");
    assert.equal(headerValue("\u20ac"), "\xe2\x82\xac");
  });

  test("the headers of a read, in weed's order", () => {
    // headers_static_test.go TestReadPassthroughHeadersAndDownloadDisposition
    const q = parseReadQuery("response-content-type=text/plain&response-cache-control=no-store&dl=true");
    assert.deepEqual(contentHeaders(responseMimeType("", "report.txt"), "report.txt", q, undefined), [
      ["Content-Type", "text/plain; charset=utf-8"],
      ["Content-Type", "text/plain"],
      ["Cache-Control", "no-store"],
      ["Content-Disposition", "attachment; filename=report.txt"],
    ]);
    // headers_static_test.go TestDownloadDispositionUsesGoBoolParsing
    assert.deepEqual(contentHeaders("", "report.txt", parseReadQuery("dl=t"), undefined), [
      ["Content-Disposition", "attachment; filename=report.txt"],
    ]);
    const none = parseReadQuery("");
    assert.deepEqual(contentHeaders("", "report.txt", parseReadQuery("dl=yes"), undefined), [
      ["Content-Disposition", "inline; filename=report.txt"],
    ]);
    // No file name: no Content-Disposition; no type: nothing (Go sniffs the body).
    assert.deepEqual(contentHeaders("", "", none, undefined), []);
    // A pair header's Content-Disposition stands; an override replaces it.
    assert.deepEqual(contentHeaders("", "report.txt", none, "from-pair"), []);
    assert.deepEqual(
      contentHeaders("", "report.txt", parseReadQuery("response-content-disposition=x"), "from-pair"),
      [["Content-Disposition", "x"]],
    );
    // An empty override counts as unset when there is a name, and is sent empty when there is none.
    assert.deepEqual(
      contentHeaders("", "report.txt", parseReadQuery("response-content-disposition="), undefined),
      [
        ["Content-Disposition", ""],
        ["Content-Disposition", "inline; filename=report.txt"],
      ],
    );
    assert.deepEqual(contentHeaders("", "", parseReadQuery("response-content-disposition="), undefined), [
      ["Content-Disposition", ""],
    ]);
  });
});
