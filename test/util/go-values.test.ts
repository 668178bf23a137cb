import assert from "node:assert/strict";
import { test } from "node:test";
import { formatGoDuration, parseGoBool, parseGoDuration, parseGoInt } from "../../src/util/go-values.js";

test("integers follow strconv.ParseInt with base 0", () => {
  const ok: [string, bigint][] = [
    ["8080", 8080n],
    ["+5", 5n],
    ["-5", -5n],
    ["0x1F", 31n],
    ["0X1f", 31n],
    ["017", 15n],
    ["0o17", 15n],
    ["0b101", 5n],
    ["1_000", 1000n],
    ["0x_1F", 31n],
    ["0", 0n],
    ["9223372036854775807", 9223372036854775807n],
  ];
  for (const [s, v] of ok) assert.equal(parseGoInt(s), v, s);
  for (const s of ["", "abc", "1.5", "08", "0x", "_1", "1_", "1__0", "1e3", " 1", "--1"]) {
    assert.throws(
      () => parseGoInt(s),
      new RegExp(
        `^ParseError: strconv.ParseInt: parsing ${JSON.stringify(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: invalid syntax$`,
      ),
      s,
    );
  }
  assert.throws(
    () => parseGoInt("9223372036854775808"),
    /strconv.ParseInt: parsing "9223372036854775808": value out of range/,
  );
});

test("bools follow strconv.ParseBool", () => {
  for (const s of ["1", "t", "T", "true", "TRUE", "True"]) assert.equal(parseGoBool(s), true);
  for (const s of ["0", "f", "F", "false", "FALSE", "False"]) assert.equal(parseGoBool(s), false);
  for (const s of ["yes", "on", "", "tRUE"])
    assert.throws(() => parseGoBool(s), /strconv.ParseBool: parsing .*: invalid syntax/);
});

test("durations follow time.ParseDuration", () => {
  const ok: [string, number][] = [
    ["2s", 2e9],
    ["0", 0],
    ["300ms", 300e6],
    ["1.5h", 5400e9],
    ["2h45m", 9900e9],
    ["-1m", -60e9],
    ["1us", 1e3],
    ["1\u00b5s", 1e3],
    [".5s", 0.5e9],
    ["1.s", 1e9],
  ];
  for (const [s, ns] of ok) assert.equal(parseGoDuration(s), ns, s);
  for (const s of ["5parsecs", "5", "", "s", "1.5", ".s", "1d", "-"])
    assert.throws(() => parseGoDuration(s), s);
});

test("durations print as time.Duration.String", () => {
  assert.equal(formatGoDuration(60e9), "1m0s");
  assert.equal(formatGoDuration(500e3), "500\u00b5s");
  assert.equal(formatGoDuration(2e9), "2s");
  assert.equal(formatGoDuration(5400e9), "1h30m0s");
  assert.equal(formatGoDuration(1.5e9), "1.5s");
  assert.equal(formatGoDuration(0), "0s");
});
