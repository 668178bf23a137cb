// The JSON-lines query: paths, filters by value type, raw projections.

import assert from "node:assert/strict";
import { test } from "node:test";
import { getPath, globMatch, passesFilter, queryJsonLines } from "../../src/query/json-lines.js";

const doc =
  '{"name":"Ann","age":37,"tags":["a","b"],"pet":{"kind":"cat","legs":4},"ok":true,"no":false,"n":null,"x.y":1}';

test("paths reach keys, nested keys, array elements and lengths, with raw text", () => {
  assert.deepEqual(getPath(doc, "name"), { type: "string", raw: '"Ann"' });
  assert.deepEqual(getPath(doc, "pet.legs"), { type: "number", raw: "4" });
  assert.deepEqual(getPath(doc, "pet"), { type: "json", raw: '{"kind":"cat","legs":4}' });
  assert.deepEqual(getPath(doc, "tags.1"), { type: "string", raw: '"b"' });
  assert.deepEqual(getPath(doc, "tags.#"), { type: "number", raw: "2" });
  assert.deepEqual(getPath(doc, "x\\.y"), { type: "number", raw: "1" });
  assert.deepEqual(getPath(doc, "pe?.kind"), { type: "string", raw: '"cat"' });
  assert.equal(getPath(doc, "missing"), undefined);
  assert.equal(getPath(doc, "tags.9"), undefined);
  assert.equal(getPath("not json", "a"), undefined);
});

test("filters compare per value type as weed does", () => {
  assert.equal(passesFilter(doc, { field: "age", op: ">", value: "30" }), true);
  assert.equal(passesFilter(doc, { field: "age", op: "<", value: "30" }), false);
  assert.equal(passesFilter(doc, { field: "age", op: "=", value: "abc" }), false);
  assert.equal(passesFilter(doc, { field: "name", op: ">=", value: "Ann" }), true);
  assert.equal(passesFilter(doc, { field: "name", op: "%", value: "A*" }), true);
  assert.equal(passesFilter(doc, { field: "name", op: "!%", value: "A*" }), false);
  assert.equal(passesFilter(doc, { field: "ok", op: "=", value: "true" }), true);
  assert.equal(passesFilter(doc, { field: "ok", op: ">=", value: "anything" }), true);
  assert.equal(passesFilter(doc, { field: "no", op: "<", value: "true" }), true);
  assert.equal(passesFilter(doc, { field: "n", op: "=", value: "null" }), false);
  assert.equal(passesFilter(doc, { field: "pet", op: "", value: "" }), true);
  assert.equal(passesFilter(doc, { field: "gone", op: "", value: "" }), false);
});

test("records are the selected raw values of passing lines, keys unquoted", () => {
  const lines = '{"score":3}\n{"score":12,"who":"b"}\n\n{"score":18}\n';
  assert.equal(
    queryJsonLines(lines, ["score", "who"], { field: "score", op: ">", value: "10" }),
    '{score:12,who:"b"}{score:18,who:}',
  );
  assert.equal(queryJsonLines(lines, ["score"], { field: "score", op: ">", value: "100" }), "");
});

test("glob matching", () => {
  assert.equal(globMatch("hello.txt", "*.txt"), true);
  assert.equal(globMatch("hello.txt", "h?llo.*"), true);
  assert.equal(globMatch("hello", "h*z"), false);
});
