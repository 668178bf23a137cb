// SeaweedFS's own load tests (test/volume_server/loadtest in the pinned module) for scripts/bench.mjs:
// run once against the Go `weed volume` and once against ours (VOLUME_SERVER_IMPL=rust with
// RUST_VOLUME_BINARY, as the conformance suite drives our binary), their `RESULT impl=...` lines
// folded into one row a test case: ops/s and p50/p99 where the case prints them, Go and ours.

import { runGoTestJson } from "./go-test.mjs";
import { goModuleDir } from "./weed.mjs";

const PACKAGE = "github.com/seaweedfs/seaweedfs/test/volume_server/loadtest";
const TESTS = "^(TestBenchmarkVolumeServer|TestLatencyPercentiles|TestSustainedP99)$";

/** "1.234ms" / "850µs" / "2s" as milliseconds. */
function goDurationMs(text) {
  const m = /^([\d.]+)(ns|µs|us|ms|s|m)$/.exec(text ?? "");
  if (!m) return Number.NaN;
  const scale = { ns: 1e-6, µs: 1e-3, us: 1e-3, ms: 1, s: 1000, m: 60_000 }[m[2]];
  return Number(m[1]) * scale;
}

/**
 * The RESULT lines of one run, by case name: { opsPerSec, p50ms, p99ms }. A sustained case prints
 * its percentiles on the line after its RESULT line.
 */
export function parseResults(lines) {
  const cases = new Map();
  let last = null;
  for (const line of lines) {
    const fields = Object.fromEntries([...line.matchAll(/(\w[\w/]*)=(\S+)/g)].map((m) => [m[1], m[2]]));
    if (/\bRESULT\b/.test(line) && fields.test) {
      const entry = {
        opsPerSec: Number(fields["ops/s"] ?? Number.NaN),
        p50ms: goDurationMs(fields.p50),
        p99ms: goDurationMs(fields.p99),
        errors: Number(fields.errors ?? 0),
      };
      // Latency cases and throughput cases share names ("Upload/1KB"): tell them apart.
      const kind = fields["ops/s"] === undefined ? "latency" : fields.duration ? "sustained" : "throughput";
      cases.set(`${kind} ${fields.test}`, entry);
      last = kind === "sustained" ? entry : null;
    } else if (last && fields.p99 && !/\bRESULT\b/.test(line)) {
      last.p50ms = goDurationMs(fields.p50);
      last.p99ms = goDurationMs(fields.p99);
      last = null;
    }
  }
  return cases;
}

async function runOnce(impl, weed, env, ours, log) {
  const runEnv = { ...process.env, ...env, WEED_BINARY: weed };
  if (impl === "ours") {
    runEnv.VOLUME_SERVER_IMPL = "rust";
    runEnv.RUST_VOLUME_BINARY = ours;
  } else {
    delete runEnv.VOLUME_SERVER_IMPL;
  }
  const { tests } = await runGoTestJson({
    cwd: goModuleDir,
    env: runEnv,
    args: ["-count=1", "-timeout=40m", `-run=${TESTS}`, PACKAGE],
    onTest: (t) => log(`  loadtest ${impl}: ${t.name} ${t.outcome} (${t.seconds}s)`),
  });
  const lines = [...tests.values()].flatMap((t) => t.output.join("").split("\n"));
  const failed = [...tests.values()].filter((t) => t.outcome !== "pass").map((t) => t.name);
  return { cases: parseResults(lines), failed };
}

/**
 * Both runs, Go first (ours from the launcher `ours`); answers { rows: [{ name, go, ours, ratio }], failed: { go, ours }, duration }.
 * `sustained` is LOADTEST_DURATION (Go duration) for TestSustainedP99's four cases.
 */
export async function benchLoadtest({ weed, servers, sustained, ours, log }) {
  const env = { LOADTEST_DURATION: sustained };
  const runs = {};
  for (const impl of servers) runs[impl] = await runOnce(impl, weed, env, ours, log);
  const names = new Set(servers.flatMap((impl) => [...runs[impl].cases.keys()]));
  const rows = [...names].map((name) => {
    const row = { name };
    for (const impl of servers) row[impl] = runs[impl].cases.get(name) ?? null;
    if (row.go && row.ours) {
      row.ratio = {
        opsPerSec: row.ours.opsPerSec / row.go.opsPerSec,
        p99ms: row.ours.p99ms / row.go.p99ms,
      };
    }
    return row;
  });
  return {
    rows,
    failed: Object.fromEntries(servers.map((impl) => [impl, runs[impl].failed])),
    sustained,
  };
}
