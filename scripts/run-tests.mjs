// Runs every compiled test (dist/**/*.test.js) with node's own test runner and ends with one summary
// line CI can read: "tests: N passed, M failed, K skipped", after a first line naming the Node.js
// that ran them. Arguments filter test files by substring.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { root } from "./lib/weed.mjs";

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return findTests(p);
    return e.name.endsWith(".test.js") ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests(join(root, "dist"))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files found; run `npm run build` first");
  process.exit(1);
}
// Which runtime ran the tests, for a reader of CI's log: the pinned one when npm put it on PATH.
console.log(`tests: Node.js ${process.version} (${process.execPath})`);
const tap = join(tmpdir(), `seaweed-volume-tests-${process.pid}.tap`);
const result = spawnSync(
  process.execPath,
  [
    "--test",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: "inherit" },
);
const text = readFileSync(tap, "utf8");
rmSync(tap, { force: true });
const count = (label) => Number(new RegExp(`^# ${label} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
const failed = count("fail") + count("cancelled");
console.log(`tests: ${count("pass")} passed, ${failed} failed, ${count("skipped") + count("todo")} skipped`);
process.exit(result.status === 0 && failed === 0 ? 0 : 1);
