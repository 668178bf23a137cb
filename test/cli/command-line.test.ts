// The launcher as an operator runs it: usage, and bad flags refused before anything is touched.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { MIN_NODE_MAJOR } from "../../src/cli/runtime.js";

const launcher = fileURLToPath(new URL("../../../bin/weed-volume", import.meta.url));

function run(args: string[], cwd: string) {
  const r = spawnSync(launcher, args, { cwd, encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Every `weed volume` flag of the pinned version, with its kind as usage prints it.
const WEED_VOLUME_FLAGS: [string, string][] = [
  ["port", "int"],
  ["port.grpc", "int"],
  ["port.public", "int"],
  ["ip", "string"],
  ["id", "string"],
  ["publicUrl", "string"],
  ["ip.bind", "string"],
  ["master", "string"],
  ["mserver", "string"],
  ["preStopSeconds", "int"],
  ["idleTimeout", "int"],
  ["dataCenter", "string"],
  ["rack", "string"],
  ["index", "string"],
  ["disk", "string"],
  ["tags", "string"],
  ["images.fix.orientation", ""],
  ["readMode", "string"],
  ["cpuprofile", "string"],
  ["memprofile", "string"],
  ["compactionMBps", "int"],
  ["compactionMaxParallelCommits", "int"],
  ["maintenanceMBps", "int"],
  ["fileSizeLimitMB", "int"],
  ["index.leveldbTimeout", "int"],
  ["concurrentUploadLimitMB", "int"],
  ["concurrentDownloadLimitMB", "int"],
  ["pprof", ""],
  ["metricsPort", "int"],
  ["metricsIp", "string"],
  ["dir.idx", "string"],
  ["inflightUploadDataTimeout", "duration"],
  ["inflightDownloadDataTimeout", "duration"],
  ["hasSlowRead", ""],
  ["readBufferSizeMB", "int"],
  ["volume.allowUntrustedRemoteEndpoints", ""],
  ["fsyncMinBatchBytes", "int"],
  ["fsyncMinBatchRequests", "int"],
  ["fsyncBatchWait", "duration"],
  ["debug", ""],
  ["debug.port", "int"],
  ["dir", "string"],
  ["max", "string"],
  ["whiteList", "string"],
  ["minFreeSpacePercent", "string"],
  ["minFreeSpace", "string"],
  ["options", "string"],
];

test("-h lists every weed volume flag with its kind and default", () => {
  const cwd = mkdtempSync(join(tmpdir(), "wv-cli-"));
  try {
    const r = run(["-h"], cwd);
    assert.equal(r.status, 0);
    for (const [name, kind] of WEED_VOLUME_FLAGS) {
      assert.ok(r.stdout.includes(`\n  -${name}${kind ? ` ${kind}` : ""}\n`), `usage lacks -${name} ${kind}`);
    }
    assert.match(r.stdout, /-port int\n\s+http listen port \(default 8080\)/);
    assert.match(r.stdout, /-inflightUploadDataTimeout duration\n.*\(default 1m0s\)/);
    assert.match(r.stdout, /-hasSlowRead\n.*\(default true\)/);
    assert.match(r.stdout, /-securityFile string/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test("bad flags exit 2 with one clear line and touch nothing", () => {
  const cwd = mkdtempSync(join(tmpdir(), "wv-cli-"));
  const dataDir = join(cwd, "data-that-must-not-appear");
  try {
    const cases: [string[], RegExp][] = [
      [
        ["-port=abc"],
        /^weed-volume: invalid value "abc" for flag -port: strconv.ParseInt: parsing "abc": invalid syntax\n$/,
      ],
      [["-max=x"], /^weed-volume: The max specified in -max not a valid number x\n$/],
      [
        ["-inflightUploadDataTimeout=5parsecs"],
        /invalid value "5parsecs" for flag -inflightUploadDataTimeout/,
      ],
      [["--no-such-flag"], /^weed-volume: flag provided but not defined: -no-such-flag\n$/],
      [["-port"], /flag needs an argument: -port/],
      [["-readMode=sideways"], /-readMode/],
      [["-minFreeSpace=lots"], /minFreeSpace not a valid value lots/],
      [["-dir=a,b", "-max=1,2,3"], /2 directories by -dir, but only 3 max/],
    ];
    for (const [args, message] of cases) {
      const r = run([`-dir=${dataDir}`, ...args], cwd);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}`);
      assert.equal(existsSync(dataDir), false);
      assert.deepEqual(readdirSync(cwd), []);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test("the launcher runs on the checkout's pinned Node.js, whatever node PATH finds first", () => {
  const pinned = fileURLToPath(new URL("../../../node_modules/node/bin/node", import.meta.url));
  if (!existsSync(pinned)) return; // an install without dev dependencies has no pinned Node.js
  // A PATH whose only `node` is the system's (or none): the launcher must not use it.
  const r = spawnSync(launcher, ["-h"], {
    encoding: "utf8",
    env: { ...process.env, PATH: "/usr/bin:/bin" },
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Example: weed-volume /);
});

test("a Node.js older than engines.node gets one line and exit 2", (t) => {
  const entry = fileURLToPath(new URL("../../src/cli/launch.js", import.meta.url));
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.engines.node, `>=${MIN_NODE_MAJOR}`, "launch.ts and package.json agree");
  // The machine's own node, when it is older (this project's machines ship Node.js 20).
  const system = "/usr/bin/node";
  const version = existsSync(system) ? spawnSync(system, ["--version"], { encoding: "utf8" }).stdout : "";
  if (!version || Number(/^v(\d+)/.exec(version)?.[1]) >= MIN_NODE_MAJOR) {
    t.skip(`no Node.js older than ${MIN_NODE_MAJOR} at ${system}`);
    return;
  }
  const r = spawnSync(system, [entry, "-h"], { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    `weed-volume: needs Node.js ${MIN_NODE_MAJOR} or later, but ${system} is ${version.trim()}\n`,
  );
});
