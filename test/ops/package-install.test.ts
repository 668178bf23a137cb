// The server as an operator installs it: `npm pack` of this checkout, `npm install -g` of the tarball
// into a scratch prefix (no dev tools, no Go, no install scripts), then the installed `weed-volume`
// against a real weed master, writing and reading back a needle.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { after, before, test } from "node:test";
import {
  type Master,
  repoRoot,
  scratchDir,
  startMaster,
  startVolume,
  type VolumeProc,
} from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master | undefined;
let volume: VolumeProc | undefined;

before(() => {
  scratch = scratchDir("wv-package-");
  // The installing machine's Node.js is the one running this test (the project's pinned one under
  // npm test), first on PATH for npm and for the installed launcher alike.
  process.env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`;
});

after(async () => {
  await volume?.proc.stop("SIGKILL");
  await master?.proc.stop();
  scratch?.cleanup();
});

/** npm with the variables the outer `npm test` set removed, so they do not steer this one. */
function npm(args: string[], cwd: string): string {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return execFileSync("npm", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

test("the packed tarball installs without dev tools and the installed server stores and serves a needle", async () => {
  // npm test has just built dist/; prepack would build it again under the running tests.
  const packed = JSON.parse(
    npm(["pack", "--json", "--ignore-scripts", "--pack-destination", scratch.dir], repoRoot),
  ) as { filename: string; files: { path: string }[] }[];
  const files = packed[0]!.files.map((f) => f.path);
  for (const needed of [
    "bin/weed-volume",
    "dist/src/cli/launch.js",
    "dist/src/cli/main.js",
    "dist/src/server/volume-server.js",
    "dist/wasm/reed-solomon/gf-kernel.wasm",
    "assets/favicon.ico",
    "package.json",
  ]) {
    assert.ok(files.includes(needed), `${needed} is in the tarball`);
  }
  const extra = files.filter((f) =>
    /^(src|test|bench|scripts|tools|proto|dist\/test|dist\/bench)\/|\.map$/.test(f),
  );
  assert.deepEqual(extra, [], "the tarball holds nothing the server does not run");

  const prefix = join(scratch.dir, "prefix");
  npm(
    [
      "install",
      "-g",
      "--prefix",
      prefix,
      "--ignore-scripts",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      join(scratch.dir, packed[0]!.filename),
    ],
    scratch.dir,
  );
  const installed = join(prefix, "lib", "node_modules", "seaweed-volume");
  for (const dev of ["typescript", "@biomejs/biome", "node", "assemblyscript", "@bufbuild/buf"]) {
    assert.ok(!existsSync(join(installed, "node_modules", dev)), `dev dependency ${dev} is not installed`);
  }

  master = await startMaster(scratch.dir);
  const data = join(scratch.dir, "data");
  mkdirSync(data);
  volume = await startVolume("ours", scratch.dir, data, master, [], join(prefix, "bin", "weed-volume"));
  // Without a pinned Node beside it, the installed launcher runs the node on PATH.
  const exe = realpathSync(`/proc/${volume.proc.child.pid}/exe`);
  assert.equal(exe, realpathSync(process.execPath));
  assert.match(
    readFileSync(`/proc/${volume.proc.child.pid}/cmdline`, "utf8"),
    /seaweed-volume\/bin\/\.\.\/dist\/src\/cli\/launch\.js/,
  );
  assert.ok(!exe.startsWith(installed), `runs on the machine's node (${exe})`);

  const assign = (await (await fetch(`${master.url}/dir/assign`)).json()) as { fid: string; url: string };
  assert.equal(assign.url, `127.0.0.1:${volume.port}`);
  const body = Buffer.from(`installed from the tarball ${Date.now()}`);
  const put = await fetch(`${volume.url}/${assign.fid}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/octet-stream" },
  });
  assert.equal(put.status, 201, await put.text());
  const get = await fetch(`${volume.url}/${assign.fid}`);
  assert.equal(get.status, 200);
  assert.deepEqual(Buffer.from(await get.arrayBuffer()), body);
});
