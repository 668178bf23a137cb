// /ui/index.html looked at the way a person would: our server with a volume on it, the page opened
// in headless Chromium (the system's, driven by puppeteer-core). It must render the server's
// volumes and disks, load its image and icon, and log no errors. Skipped when no Chromium is there.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import puppeteer, { type Browser } from "puppeteer-core";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";
import { pattern, writeVolume } from "./twin.js";

// Code run in the page: the DOM's types are not in this project's (Node-only) library set.
interface PageNode {
  textContent: string | null;
  innerText: string;
  children: ArrayLike<PageNode>;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): ArrayLike<PageNode>;
  getBoundingClientRect(): { width: number; height: number };
  complete?: boolean;
  naturalWidth?: number;
}
declare const document: PageNode & { body: PageNode };

function findChromium(): string | undefined {
  for (const name of [process.env.CHROMIUM, "chromium", "chromium-browser", "google-chrome"]) {
    if (!name) continue;
    try {
      return execFileSync("sh", ["-c", `command -v "${name}"`], { encoding: "utf8" }).trim() || undefined;
    } catch {}
  }
  return undefined;
}

const chromium = findChromium();
const skip = chromium ? false : "no chromium on this machine (apt-get install -y chromium, or set CHROMIUM)";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
let ours: VolumeProc;
let browser: Browser | undefined;

before(async () => {
  if (!chromium) return;
  scratch = scratchDir("wv-ui-");
  const data = join(scratch.dir, "data");
  mkdirSync(data);
  writeVolume(data, 3, [
    { key: 1, data: pattern(5000, 1), name: "a.bin" },
    { key: 2, data: pattern(300, 2), name: "b.bin", deleted: true },
    { key: 3, data: pattern(70, 3) },
  ]);
  writeVolume(data, 9, [{ key: 1, data: pattern(10, 1) }]);
  master = await startMaster(scratch.dir);
  ours = await startVolume("ours", scratch.dir, data, master);
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
});

after(async () => {
  await browser?.close();
  await ours?.proc.stop();
  await master?.proc.stop();
  scratch?.cleanup();
});

test("the status page renders the server's volumes and disks in Chromium", { skip }, async () => {
  const page = await browser!.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`);
  });

  const res = await page.goto(`${ours.url}/ui/index.html`, { waitUntil: "networkidle0" });
  assert.equal(res?.status(), 200);
  assert.match(res?.headers()["content-type"] ?? "", /^text\/html/);
  assert.match(await page.title(), /SeaweedFS volume server/);

  const view = await page.evaluate(() => {
    const tables = Array.from(document.querySelectorAll("table"), (t) =>
      Array.from(t.querySelectorAll("tr"), (tr) =>
        Array.from(tr.children, (c) => c.textContent?.trim() ?? ""),
      ),
    );
    const img = document.querySelector("h1 img");
    const box = document.body.getBoundingClientRect();
    return {
      heading: document.querySelector("h1")?.textContent ?? "",
      meta: document.querySelector(".meta")?.textContent ?? "",
      tables,
      image: img ? { complete: img.complete === true, width: img.naturalWidth ?? 0 } : undefined,
      size: { width: box.width, height: box.height },
    };
  });
  assert.match(view.heading, /Volume server/);
  assert.match(view.meta, /master 127\.0\.0\.1:\d+/, "the page names the master we heartbeat with");
  assert.ok(view.image?.complete && view.image.width > 0, "the logo from /seaweedfsstatic loads");
  assert.ok(view.size.width > 0 && view.size.height > 100, "the page has a visible layout");

  const [disks, volumes] = view.tables;
  assert.deepEqual(disks?.[0], ["Directory", "Type", "Size", "Free", "Used"]);
  assert.equal(disks?.length, 2, "one row per data directory");
  assert.match(disks![1]![4]!, /^\d+(\.\d)?%$/);
  assert.deepEqual(volumes?.[0], [
    "Id",
    "Collection",
    "Directory",
    "Size",
    "Files",
    "Deleted",
    "Replication",
    "TTL",
    "State",
  ]);
  const rows = volumes!.slice(1);
  assert.deepEqual(
    rows.map((r) => [r[0], r[4], r[5], r[6], r[8]]),
    [
      ["3", "2", "1", "000", "writable"],
      ["9", "1", "0", "000", "writable"],
    ],
  );
  // The rendered text, what a reader sees, not the DOM's.
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
  assert.match(await page.evaluate(() => document.body.innerText), /Volumes \(2\)/);
  await page.close();
  assert.deepEqual(problems, [], "the page loads without errors");
});
