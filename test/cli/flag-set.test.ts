import assert from "node:assert/strict";
import { test } from "node:test";
import { FlagError, FlagSet, HelpRequested } from "../../src/cli/flag-set.js";

function flags(): FlagSet {
  const f = new FlagSet();
  f.define("port", "int", 8080, "http listen port");
  f.define("pprof", "bool", false, "profiling");
  f.define("dir", "string", "/tmp", "dirs");
  f.define("timeout", "duration", 60e9, "timeout");
  return f;
}

test("Go's flag syntaxes all set a value", () => {
  for (const args of [["-port=9"], ["-port", "9"], ["--port", "9"], ["--port=9"]]) {
    assert.equal(flags().parse(args).values.get("port"), 9, args.join(" "));
  }
  const r = flags().parse(["-pprof", "-dir", "-x-", "-timeout=2s"]);
  assert.equal(r.values.get("pprof"), true);
  assert.equal(
    r.values.get("dir"),
    "-x-",
    "a non-bool flag takes the next argument even if it starts with -",
  );
  assert.equal(r.values.get("timeout"), 2e9);
  assert.deepEqual([...r.set], ["pprof", "dir", "timeout"]);
});

test("a bool never takes the next argument, and parsing stops at the first non-flag", () => {
  const r = flags().parse(["-pprof", "false", "-port=1"]);
  assert.equal(r.values.get("pprof"), true);
  assert.equal(r.values.get("port"), 8080);
  assert.deepEqual(r.rest, ["false", "-port=1"]);
  assert.equal(flags().parse(["-pprof=false"]).values.get("pprof"), false);
  assert.deepEqual(flags().parse(["--", "-port=1"]).rest, ["-port=1"]);
});

test("defaults stay when a flag is absent; the last occurrence wins", () => {
  const r = flags().parse(["-port=1", "-port=2"]);
  assert.equal(r.values.get("port"), 2);
  assert.equal(r.values.get("dir"), "/tmp");
});

test("errors read as Go's", () => {
  assert.throws(
    () => flags().parse(["-port=abc"]),
    (e) =>
      e instanceof FlagError &&
      e.message === 'invalid value "abc" for flag -port: strconv.ParseInt: parsing "abc": invalid syntax',
  );
  assert.throws(() => flags().parse(["-nope"]), /^FlagError: flag provided but not defined: -nope$/);
  assert.throws(() => flags().parse(["-port"]), /flag needs an argument: -port/);
  assert.throws(
    () => flags().parse(["-pprof=maybe"]),
    /invalid boolean value "maybe" for -pprof: strconv.ParseBool: parsing "maybe": invalid syntax/,
  );
  assert.throws(
    () => flags().parse(["-timeout=5parsecs"]),
    /invalid value "5parsecs" for flag -timeout: time: unknown unit "parsecs" in duration "5parsecs"/,
  );
  assert.throws(() => flags().parse(["---port=1"]), /bad flag syntax: ---port=1/);
  assert.throws(() => flags().parse(["-=1"]), /bad flag syntax/);
  assert.throws(() => flags().parse(["-h"]), HelpRequested);
  assert.throws(() => flags().parse(["--help"]), HelpRequested);
});

test("usage lists flags sorted, with kinds and non-zero defaults", () => {
  const text = flags().defaults();
  assert.match(text, /^ {2}-dir string\n {4}\tdirs \(default "\/tmp"\)\n/);
  assert.match(text, / {2}-port int\n {4}\thttp listen port \(default 8080\)/);
  assert.match(text, / {2}-pprof\n {4}\tprofiling\n/);
  assert.match(text, / {2}-timeout duration\n {4}\ttimeout \(default 1m0s\)/);
});

test("WEED_* environment variables and an -options file fill flags not given", () => {
  const f = flags();
  const r = f.parse(["-port=1"]);
  f.applyEnvironment(r, { WEED_PORT: "2", WEED_DIR: "/env", WEED_PPROF: "" });
  assert.equal(r.values.get("port"), 1, "the command line wins");
  assert.equal(r.values.get("dir"), "/env");
  assert.equal(r.values.get("pprof"), true, "an empty bool variable means true");
  f.applyOptionsText(r, "# comment\ntimeout=5s\ndir=/file\nunknown=1\n");
  assert.equal(r.values.get("timeout"), 5e9);
  assert.equal(r.values.get("dir"), "/env", "the environment wins over the file");
  assert.throws(
    () => f.applyOptionsText(f.parse([]), "port=x"),
    /invalid value "x" for configuration variable port/,
  );
});
