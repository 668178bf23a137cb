// npm run conformance [-- [http|grpc] [-run REGEX] [--offset5] [--timeout 25m] [--parallel N] [--no-retry]]
//
// Runs SeaweedFS's own volume-server suite (test/volume_server/{http,grpc} of the pinned module)
// against bin/weed-volume, as SeaweedFS's CI runs its Rust port: VOLUME_SERVER_IMPL=rust with
// RUST_VOLUME_BINARY naming our launcher. A test that fails is run once more (pass then = flaky).
//
// Which tests ran our binary is observed, not assumed: the harness starts our server through a
// wrapper that records the directory it was started in, and with VOLUME_SERVER_IT_KEEP_LOGS=1 every
// test logs its work directory; a test none of whose directories saw a launch never ran ours.
//
// The result is compared with conformance/expected-failures.txt (with --offset5, plus
// expected-failures-offset5.txt): a failure not listed, or a listed test that passes, fails the run,
// so the lists only shrink.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { runGoTestJson } from "./lib/go-test.mjs";
import { ensureWeed, goModuleDir, offsetTags, root } from "./lib/weed.mjs";

const SUITE = "github.com/seaweedfs/seaweedfs/test/volume_server";
const PACKAGES = ["http", "grpc"];

function parseArgs(argv) {
  const opts = { packages: [], run: "", offset5: false, timeout: "25m", parallel: 1, retry: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i].replace(/^--?/, "-");
    const value = () => {
      const eq = argv[i].indexOf("=");
      return eq >= 0 ? argv[i].slice(eq + 1) : argv[++i];
    };
    if (PACKAGES.includes(argv[i])) opts.packages.push(argv[i]);
    else if (a === "-run" || a.startsWith("-run=")) opts.run = value();
    else if (a === "-offset5") opts.offset5 = true;
    else if (a === "-timeout" || a.startsWith("-timeout=")) opts.timeout = value();
    else if (a === "-parallel" || a.startsWith("-parallel=")) opts.parallel = Number(value());
    else if (a === "-no-retry") opts.retry = false;
    else {
      console.error(`conformance: unknown argument ${argv[i]}`);
      process.exit(2);
    }
  }
  if (opts.packages.length === 0) opts.packages = [...PACKAGES];
  return opts;
}

function readExpected(file) {
  const expected = new Map();
  if (!existsSync(file)) return expected;
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [name, ...reason] = line.split(/\s+/);
    expected.set(name, reason.join(" "));
  }
  return expected;
}

/** A wrapper launcher that records where the harness started our server, then becomes it. */
function writeLauncher(dir, launchLog) {
  const launcher = join(dir, "weed-volume-recorded");
  const target = join(root, "bin", "weed-volume");
  writeFileSync(launcher, `#!/bin/sh\nprintf '%s\\n' "$PWD" >> '${launchLog}'\nexec '${target}' "$@"\n`);
  chmodSync(launcher, 0o755);
  return launcher;
}

async function runSuite(opts, env, packages, run, onTest) {
  const args = ["-count=1", `-p=${opts.parallel}`, `-timeout=${opts.timeout}`, ...offsetTags(opts.offset5)];
  if (run) args.push(`-run=${run}`);
  args.push(...packages.map((p) => `${SUITE}/${p}`));
  return runGoTestJson({ cwd: goModuleDir, env, args, onTest });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const weed = ensureWeed({ offset5: opts.offset5 });
  const work = join(root, ".cache", "conformance", opts.offset5 ? "offset5" : "offset4");
  rmSync(work, { recursive: true, force: true });
  const tmp = join(work, "tmp");
  mkdirSync(tmp, { recursive: true });
  const launchLog = join(work, "launches.txt");
  writeFileSync(launchLog, "");
  const env = {
    ...process.env,
    VOLUME_SERVER_IMPL: "rust",
    RUST_VOLUME_BINARY: writeLauncher(work, launchLog),
    WEED_BINARY: weed,
    PATH: `${dirname(weed)}${delimiter}${process.env.PATH}`,
    VOLUME_SERVER_IT_KEEP_LOGS: "1",
    TMPDIR: tmp,
  };
  if (!existsSync(join(dirname(weed), "weed"))) throw new Error("weed must be on PATH for the S3 tests");

  const started = Date.now();
  const print = (t) => console.log(`${t.outcome.toUpperCase().padEnd(4)} ${t.pkg}/${t.name} (${t.seconds}s)`);
  const first = await runSuite(opts, env, opts.packages, opts.run, print);
  const launched = () => new Set(readFileSync(launchLog, "utf8").split("\n").filter(Boolean));
  const results = new Map();
  for (const [key, t] of first.tests) {
    results.set(key, { ...t, status: t.outcome === "unfinished" ? "fail" : t.outcome });
  }

  // Retry each failure once; a pass on the second try is a flaky test.
  const failed = [...results.values()].filter((t) => t.status === "fail");
  if (opts.retry && failed.length > 0) {
    console.log(`\nretrying ${failed.length} failed test(s) once...`);
    for (const pkg of opts.packages) {
      const names = failed.filter((t) => t.pkg === pkg).map((t) => t.name);
      if (names.length === 0) continue;
      const second = await runSuite(opts, env, [pkg], `^(${names.join("|")})$`, print);
      for (const t of second.tests.values()) {
        const r = results.get(`${pkg}/${t.name}`);
        for (const d of t.workDirs) r.workDirs.add(d);
        if (t.outcome === "pass") r.status = "flaky";
      }
    }
  }

  const seen = launched();
  for (const r of results.values()) r.ranOurs = [...r.workDirs].some((d) => seen.has(d));

  // One list for both offset widths; with --offset5 a second file may add tests that fail only there.
  const expectedFile = join(root, "conformance", "expected-failures.txt");
  const expected = readExpected(expectedFile);
  if (opts.offset5) {
    for (const [name, why] of readExpected(join(root, "conformance", "expected-failures-offset5.txt"))) {
      expected.set(name, why);
    }
  }
  const problems = [];
  const ours = [...results.values()].filter((r) => r.ranOurs);
  for (const r of results.values()) {
    const key = `${r.pkg}/${r.name}`;
    const listed = expected.has(key);
    if (!r.ranOurs) {
      if (listed) problems.push(`${key} is listed but does not run our binary: remove it`);
      continue;
    }
    if (r.status === "fail" && !listed)
      problems.push(`${key} failed and is not in ${relative(expectedFile)}`);
    if (r.status === "pass" && listed)
      problems.push(`${key} passes now: remove it from ${relative(expectedFile)}`);
  }

  const count = (status) => ours.filter((r) => r.status === status).length;
  const report = {
    date: new Date().toISOString(),
    offset5: opts.offset5,
    run: opts.run,
    packages: opts.packages,
    seconds: Math.round((Date.now() - started) / 1000),
    tests: [...results.values()].map((r) => ({
      name: `${r.pkg}/${r.name}`,
      status: r.status,
      ranOurBinary: r.ranOurs,
      seconds: r.seconds,
      expectedFailure: expected.has(`${r.pkg}/${r.name}`) ? expected.get(`${r.pkg}/${r.name}`) : undefined,
      output: r.status === "pass" ? undefined : r.output.join("").slice(-4000),
    })),
    problems,
  };
  const reportDir = join(root, "conformance", "reports");
  mkdirSync(reportDir, { recursive: true });
  const reportFile = join(reportDir, `${opts.offset5 ? "offset5" : "offset4"}.json`);
  writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  // Keep the harness directories of failed tests for reading; drop the rest.
  for (const r of results.values()) {
    if (r.status === "pass" || r.status === "skip")
      for (const d of r.workDirs) rmSync(d, { recursive: true, force: true });
  }

  const notOurs = results.size - ours.length;
  console.log(`\nreport: ${relative(reportFile)} (${report.seconds}s)`);
  console.log(
    `${count("flaky")} flaky, ${count("skip")} skipped; ${notOurs} test(s) did not run our binary and are not counted`,
  );
  for (const p of problems) console.log(`PROBLEM ${p}`);
  console.log(`${count("pass") + count("flaky")} passed, ${count("fail")} failed`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}

function relative(p) {
  return p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p;
}

main().catch((err) => {
  console.error(`conformance: ${err.message}`);
  process.exit(1);
});
