// /ui/index.html rendered by a real browser (headless Chromium): the page shows this server's
// volumes and disks, and its image and icon load. Skipped, saying so, where no Chromium is installed
// (.ci/run installs Debian's).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { allocateVolume } from "../support/grpc.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) =>
  existsSync(p),
);

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let ours: VolumeProc;

before(async () => {
  if (!CHROMIUM) return;
  scratch = scratchDir("wv-ui-");
  const data = join(scratch.dir, "data");
  mkdirSync(data);
  master = await startMaster(scratch.dir);
  ours = await startVolume("ours", scratch.dir, data, master);
  await allocateVolume(ours.grpcPort, 3);
  await allocateVolume(ours.grpcPort, 4, "pictures");
  const r = await fetch(`${ours.url}/3,0100000001`, {
    method: "POST",
    body: "hello",
    headers: { "content-type": "text/plain" },
  });
  assert.equal(r.status, 201);
});

after(async () => {
  await ours?.proc.stop();
  await master?.proc.stop();
  scratch?.cleanup();
});

function chromium(args: string[]): string {
  return execFileSync(
    CHROMIUM!,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      `--user-data-dir=${scratch.dir}/chrome`,
      ...args,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 },
  );
}

test("the status page renders in headless Chromium with our volumes and disks", {
  skip: !CHROMIUM && "no Chromium installed",
}, () => {
  const dom = chromium(["--dump-dom", `${ours.url}/ui/index.html`]);
  assert.match(dom, /<title>SeaweedFS volume server 127\.0\.0\.1:\d+<\/title>/);
  assert.match(dom, /<h2>Volumes \(2\)<\/h2>/);
  assert.match(dom, /<tr><td>3<\/td><td><\/td>/, "volume 3 listed");
  assert.match(dom, /<tr><td>4<\/td><td>pictures<\/td>/, "volume 4 in its collection");
  assert.ok(dom.includes(join(scratch.dir, "data")), "the data directory is listed under Disks");
  assert.match(dom, /master 127\.0\.0\.1:\d+/, "the master it heartbeats to");

  const shot = join(scratch.dir, "ui.png");
  chromium([`--screenshot=${shot}`, "--window-size=1200,800", `${ours.url}/ui/index.html`]);
  assert.ok(statSync(shot).size > 5000, "a screenshot of the rendered page");
});

test("the page's image and icon are served", { skip: !CHROMIUM && "no Chromium installed" }, async () => {
  for (const path of ["/seaweedfsstatic/seaweed50x50.png", "/favicon.ico"]) {
    const r = await fetch(`${ours.url}${path}`);
    assert.equal(r.status, 200, path);
    assert.ok((await r.arrayBuffer()).byteLength > 100, path);
  }
});
