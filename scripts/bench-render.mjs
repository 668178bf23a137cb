// Rewrites BENCHMARKS.md's generated section from the last `npm run bench` results
// (bench/results/latest.json and latest.md) without measuring again: for after bench/findings.json
// was edited by hand. `node scripts/bench-render.mjs [--out DIR] [--compare DIR] [--command "..."]`
// (--compare: the baseline run's results directory, as bench's --compare; --command when the results
// predate the command being recorded in them).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { benchSection, rewriteBenchmarks } from "./lib/bench-doc.mjs";
import { root } from "./lib/weed.mjs";

const { values: args } = parseArgs({
  options: { out: { type: "string" }, command: { type: "string" }, compare: { type: "string" } },
});
const out = args.out ?? join(root, "bench", "results");
const results = JSON.parse(readFileSync(join(out, "latest.json"), "utf8"));
const meta = results.meta;
const section = benchSection({
  summary: { rows: results.rows, weedBenchmark: results.weedBenchmark },
  startup: results.startup,
  loadtest: results.loadtest,
  meta,
  baseline: args.compare ? JSON.parse(readFileSync(join(args.compare, "latest.json"), "utf8")) : null,
  report: readFileSync(join(out, "latest.md"), "utf8"),
  command: args.command ?? meta.command ?? "npm run bench",
  findingsFile: join(root, "bench", "findings.json"),
  chart: "docs/images/bench-throughput.svg",
});
rewriteBenchmarks(join(root, "BENCHMARKS.md"), section);
console.error("rewrote BENCHMARKS.md from", out);
