// Runs `go test -json` and folds its event stream into one record per top-level test: its outcome,
// its duration, its output, and the harness work directories it named ("... logs kept at DIR").
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const KEPT_DIR = /logs kept at (\S+)/;

/**
 * @typedef {{ pkg: string, name: string, outcome: "pass"|"fail"|"skip"|"unfinished", seconds: number,
 *   output: string[], workDirs: Set<string> }} TestRecord
 */

/**
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, args: string[], onTest?: (t: TestRecord) => void }} options
 * @returns {Promise<{ tests: Map<string, TestRecord>, packageOutput: Map<string, string[]>, exitCode: number }>}
 */
export function runGoTestJson({ cwd, env, args, onTest }) {
  return new Promise((resolve, reject) => {
    const child = spawn("go", ["test", "-json", ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    /** @type {Map<string, TestRecord>} */
    const tests = new Map();
    /** @type {Map<string, string[]>} */
    const packageOutput = new Map();
    const stderr = [];
    child.stderr.on("data", (chunk) => stderr.push(chunk));

    const record = (pkg, name) => {
      const key = `${pkg}/${name}`;
      let t = tests.get(key);
      if (!t) {
        t = { pkg, name, outcome: "unfinished", seconds: 0, output: [], workDirs: new Set() };
        tests.set(key, t);
      }
      return t;
    };

    createInterface({ input: child.stdout }).on("line", (line) => {
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        return; // build output that is not an event
      }
      const pkg = shortPackage(ev.Package ?? "");
      if (!ev.Test) {
        if (ev.Action === "output") {
          const list = packageOutput.get(pkg) ?? [];
          list.push(ev.Output);
          packageOutput.set(pkg, list);
        }
        return;
      }
      const [top] = ev.Test.split("/");
      const t = record(pkg, top);
      if (ev.Action === "output") {
        t.output.push(ev.Output);
        const kept = KEPT_DIR.exec(ev.Output);
        if (kept) t.workDirs.add(kept[1]);
      } else if (ev.Test === top && ["pass", "fail", "skip"].includes(ev.Action)) {
        t.outcome = ev.Action;
        t.seconds = ev.Elapsed ?? 0;
        onTest?.(t);
      }
    });

    child.on("error", reject);
    child.on("close", (code) => {
      if (tests.size === 0 && code !== 0) {
        const text = Buffer.concat(stderr).toString();
        const pkgText = [...packageOutput.values()].flat().join("");
        reject(new Error(`go test failed before any test ran (exit ${code}):\n${text}${pkgText}`));
        return;
      }
      resolve({ tests, packageOutput, exitCode: code ?? 1 });
    });
  });
}

/** github.com/seaweedfs/seaweedfs/test/volume_server/http -> http */
export function shortPackage(importPath) {
  return importPath.split("/").pop() ?? importPath;
}
