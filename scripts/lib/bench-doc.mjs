// BENCHMARKS.md from a run of scripts/bench.mjs: the part between `<!-- bench:begin -->` and
// `<!-- bench:end -->` is rewritten with the targets of issue 6 judged row by row, each row still
// short of one with the profile's finding and what is being done about it (bench/findings.json,
// kept by hand), then the tables. The rest of the file (other benchmarks) is left as it is.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatNumber, formatRatio, table } from "./bench-report.mjs";
import { root } from "./weed.mjs";

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";

/** Every judged row: { target, label, ratio, ok, detail }. */
function verdicts(summary, startup, loadtest) {
  const out = [];
  const add = (target, label, ratio, ok, detail) => out.push({ target, label, ratio, ok, detail });
  for (const r of summary.rows) {
    if (!r.ratio) continue;
    const label = r.label;
    add("throughput", label, r.ratio.rps, r.ratio.rps >= 1, "req/s ours/Go");
    add("p99", label, r.ratio.p99ms, r.ratio.p99ms <= 1, "p99 ours/Go");
    add("rss", label, r.ratio.peakRssMb, r.ratio.peakRssMb <= 1.5, "peak RSS ours/Go");
  }
  const wb = summary.weedBenchmark?.ratio;
  if (wb) {
    add("throughput", "weed benchmark write", wb.writeRps, wb.writeRps >= 1, "req/s ours/Go");
    add("throughput", "weed benchmark read", wb.readRps, wb.readRps >= 1, "req/s ours/Go");
  }
  for (const r of loadtest?.rows ?? []) {
    if (!r.ratio) continue;
    const label = `loadtest ${r.name}`;
    if (Number.isFinite(r.ratio.opsPerSec)) {
      add("throughput", label, r.ratio.opsPerSec, r.ratio.opsPerSec >= 1, "ops/s ours/Go");
    }
    if (Number.isFinite(r.ratio.p99ms)) add("p99", label, r.ratio.p99ms, r.ratio.p99ms <= 1, "p99 ours/Go");
  }
  if (startup?.ratio) {
    const s = startup.ratio.seconds;
    add("startup", `start-up, ${startup.needles.toLocaleString("en")} needles`, s, s <= 1, "seconds ours/Go");
  }
  if (startup?.mapBytesPerNeedle) {
    const b = startup.mapBytesPerNeedle;
    out.push({
      target: "map",
      label: "needle map, bytes per needle",
      value: b,
      ok: b <= 24,
      detail: "bytes",
    });
  }
  return out;
}

const TARGETS = [
  { key: "throughput", text: "throughput ≥ 1.0× Go on every row" },
  { key: "p99", text: "p99 ≤ Go's" },
  { key: "rss", text: "peak RSS under load ≤ 1.5× Go's" },
  { key: "map", text: "memory needle map ≤ 24 B per needle" },
  { key: "startup", text: "start-up with a 1-million-needle volume no slower than Go's" },
];

function loadFindings(file) {
  if (!existsSync(file)) return [];
  return JSON.parse(readFileSync(file, "utf8")).findings ?? [];
}

/** The hand-kept finding for a short row: the first whose target and `match` (a regex) fit. */
function findingFor(findings, v) {
  return findings.find(
    (f) => (f.target === v.target || f.target === "any") && new RegExp(f.match ?? ".").test(v.label),
  );
}

const shown = (v) => (v.ratio !== undefined ? formatRatio(v.ratio) : `${formatNumber(v.value, 1)} B`);

function startupSection(startup) {
  if (!startup) return [];
  const f = (x, d) => formatNumber(x, d);
  const line = (label, key, d) => [
    label,
    f(startup.go?.[key], d),
    f(startup.ours?.[key], d),
    startup.go && startup.ours ? formatRatio(startup.ours[key] / startup.go[key]) : "–",
  ];
  return [
    `### Start-up and needle map memory (${startup.needles.toLocaleString("en")}-needle volume)`,
    "",
    "One volume of that many 32-byte needles, copied to a fresh directory before each start. Start-up " +
      "is the time from spawn until the last needle reads back over HTTP; memory is resident memory once " +
      "loaded minus that of the same server started on an empty directory, per needle.",
    "",
    table(
      ["measure", "Go", "ours", "ours/Go"],
      [
        line("start-up, s", "seconds", 2),
        line("RSS loaded, MiB", "rssMb", 0),
        line("RSS empty, MiB", "emptyRssMb", 0),
        line("process memory per needle, bytes", "bytesPerNeedle", 1),
        ["needle map per needle, bytes", "–", f(startup.mapBytesPerNeedle, 1), "–"],
      ],
    ),
    "",
    "The needle map row is the memory needle map our server builds from that .idx, as its typed arrays " +
      "count it (the target); process memory per needle also holds whatever else start-up leaves behind " +
      "(for ours, the .idx image read at load, until V8's next collection frees it).",
    "",
  ];
}

function loadtestSection(loadtest) {
  if (!loadtest) return [];
  const f = (x, d) => formatNumber(x, d);
  const lines = loadtest.rows.map((r) => [
    r.name,
    f(r.go?.opsPerSec, 0),
    f(r.ours?.opsPerSec, 0),
    formatRatio(r.ratio?.opsPerSec),
    f(r.go?.p99ms, 2),
    f(r.ours?.p99ms, 2),
    formatRatio(r.ratio?.p99ms),
  ]);
  const failed = Object.entries(loadtest.failed)
    .filter(([, names]) => names.length)
    .map(([impl, names]) => `${impl}: ${names.join(", ")}`);
  return [
    "### SeaweedFS's loadtest package (test/volume_server/loadtest)",
    "",
    "`go test -run '^(TestBenchmarkVolumeServer|TestLatencyPercentiles|TestSustainedP99)$'` of the pinned " +
      `module, once with the Go server and once with ours (VOLUME_SERVER_IMPL=rust), LOADTEST_DURATION=${loadtest.sustained}. ` +
      "Its throughput cases run a fixed, small number of operations each (30–1000), so single rows are noisy; " +
      `one run each.${failed.length ? ` Tests not passing: ${failed.join("; ")}.` : ""}`,
    "",
    "<details><summary>All cases</summary>",
    "",
    table(["case", "ops/s Go", "ops/s ours", "ratio", "p99 ms Go", "p99 ms ours", "ratio"], lines),
    "",
    "</details>",
    "",
  ];
}

/** Every figure two runs share, by name: { label, go, ours, cpu? } with throughput in req/s or ops/s. */
function comparable(run) {
  const out = new Map();
  for (const r of run.rows ?? []) {
    if (!r.go || !r.ours) continue;
    out.set(r.label, {
      go: r.go.median.rps,
      ours: r.ours.median.rps,
      goCpu: r.go.median.cpuUsPerReq,
      oursCpu: r.ours.median.cpuUsPerReq,
    });
  }
  const wb = run.weedBenchmark;
  for (const phase of ["write", "read"]) {
    const key = `${phase}Rps`;
    if (wb?.go && wb?.ours)
      out.set(`weed benchmark ${phase}`, { go: wb.go.median[key], ours: wb.ours.median[key] });
  }
  for (const r of run.loadtest?.rows ?? []) {
    if (Number.isFinite(r.go?.opsPerSec) && Number.isFinite(r.ours?.opsPerSec)) {
      out.set(`loadtest ${r.name}`, { go: r.go.opsPerSec, ours: r.ours.opsPerSec });
    }
  }
  // Start-up as starts a second, so that higher is better here too.
  if (run.startup?.go && run.startup?.ours) {
    out.set(`start-ups a second, ${run.startup.needles.toLocaleString("en")} needles`, {
      go: 1 / run.startup.go.seconds,
      ours: 1 / run.startup.ours.seconds,
    });
  }
  return out;
}

/**
 * A baseline run (ours on an older Node.js, same machine, each run with its own Go figures) beside
 * this one: the rows where ours moved by 5% or more.
 */
function baselineSection(baseline, current) {
  if (!baseline) return [];
  const before = comparable(baseline);
  const after = comparable(current);
  const f = (x) => formatNumber(x, x < 100 ? 2 : 0);
  const cpu = (x) => (x === undefined ? "–" : formatNumber(x, 1));
  const lines = [];
  let unchanged = 0;
  for (const [label, a] of after) {
    const b = before.get(label);
    if (!b) continue;
    const change = a.ours / b.ours;
    if (Math.abs(change - 1) < 0.05) {
      unchanged++;
      continue;
    }
    lines.push([
      label,
      f(b.go),
      f(b.ours),
      formatRatio(b.ours / b.go),
      cpu(b.oursCpu),
      f(a.go),
      f(a.ours),
      formatRatio(a.ours / a.go),
      cpu(a.oursCpu),
      formatRatio(change),
    ]);
  }
  const from = baseline.meta.node;
  const to = current.meta.node;
  return [
    `### Ours on Node.js ${from} and on ${to}`,
    "",
    `The baseline is \`${baseline.meta.command}\` run on ${baseline.meta.date} on the same machine ` +
      `(${baseline.meta.machine}) with ours on Node.js ${from}; each run measured Go's server too, ` +
      "so the Go columns show how far the machine itself moved between them. Throughput is req/s " +
      "(loadtest: ops/s; start-up: starts a second), CPU is ours' µs a request. Rows where ours moved " +
      `by 5% or more; ${unchanged} other row(s) moved less.`,
    "",
    table(
      [
        "row",
        `Go (${from} run)`,
        `ours ${from}`,
        "ours/Go",
        `CPU µs ${from}`,
        `Go (${to} run)`,
        `ours ${to}`,
        "ours/Go",
        `CPU µs ${to}`,
        `ours ${to}/${from}`,
      ],
      lines,
    ),
    "",
  ];
}

/** The generated section's Markdown. `report` is bench-report's markdown() (its # title dropped). */
export function benchSection({
  summary,
  startup,
  loadtest,
  meta,
  baseline = null,
  report,
  command,
  findingsFile,
  chart,
}) {
  const all = verdicts(summary, startup, loadtest);
  const findings = loadFindings(findingsFile);
  const parts = [BEGIN, "", "## Side by side with the Go server (`npm run bench`)", ""];
  parts.push(
    `Generated by \`${command}\` on ${meta.date}, ${meta.totalSeconds} s in all. Re-run it to reproduce.`,
  );
  parts.push("", `![Throughput by object size, ours and Go's](${chart})`, "");
  parts.push("### Targets", "");
  const targetLines = TARGETS.map((t) => {
    const rows = all.filter((v) => v.target === t.key);
    const short = rows.filter((v) => !v.ok);
    const verdict = rows.length === 0 ? "not measured" : short.length === 0 ? "**met**" : "short";
    return [t.text, String(rows.length), String(rows.length - short.length), String(short.length), verdict];
  });
  parts.push(table(["target", "rows", "met", "short", "verdict"], targetLines), "");
  parts.push(
    "A row's throughput is its req/s (loadtest: ops/s); p99 and peak RSS are the volume server's; every " +
      "ratio is ours/Go. Rows short of a target are listed below with what profiling found.",
    "",
  );
  const short = all.filter((v) => !v.ok);
  if (short.length) {
    // Each finding once, numbered; the short rows point at theirs.
    const used = [];
    const numberOf = (f) => {
      if (!f) return "not profiled yet";
      if (!used.includes(f)) used.push(f);
      return `[F${used.indexOf(f) + 1}](#findings)`;
    };
    const lines = short.map((v) => [v.label, v.target, shown(v), numberOf(findingFor(findings, v))]);
    parts.push("### Rows short of a target", "");
    parts.push(table(["row", "target", "measured", "finding"], lines, 2), "");
    if (used.length) {
      parts.push("### Findings", "");
      used.forEach((f, i) => {
        parts.push(`**F${i + 1}.** ${f.finding}  `, `*What is being done:* ${f.action}`, "");
      });
    }
  }
  parts.push("### Results", "");
  parts.push(report.replace(/^# .*\n+/, "").replace(/^## /gm, "#### "));
  parts.push(
    ...startupSection(startup),
    ...loadtestSection(loadtest),
    ...baselineSection(baseline, { ...summary, startup, loadtest, meta }),
    END,
  );
  return parts.join("\n");
}

/** Replaces the generated section of `file` (appending it when the markers are missing). */
export function rewriteBenchmarks(file, section) {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  const next =
    a >= 0 && b > a
      ? `${text.slice(0, a)}${section}${text.slice(b + END.length)}`
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  // Aligned as the project's formatter wants it (npm run lint checks Markdown too).
  spawnSync(join(root, "node_modules", ".bin", "biome"), ["format", "--write", file], { stdio: "ignore" });
}
