// /ui/index.html: a small status page of our own design (volumes, disks, masters).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerContext } from "../context.js";
import { diskStatuses } from "../system-status.js";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function handleUi(ctx: ServerContext, _req: IncomingMessage, res: ServerResponse): void {
  const volumes = [...ctx.store.volumes()].sort((a, b) => a.volume.id - b.volume.id);
  const rows = volumes
    .map(
      ({ volume: v, location }) =>
        `<tr><td>${v.id}</td><td>${escapeHtml(v.collection)}</td><td>${escapeHtml(location.directory)}</td><td>${bytes(v.datSize)}</td><td>${v.fileCount - v.deletedCount}</td><td>${v.deletedCount}</td><td>${escapeHtml(v.replication)}</td><td>${escapeHtml(v.ttlText)}</td><td>${v.isReadOnly() ? "read-only" : "writable"}</td></tr>`,
    )
    .join("\n");
  const disks = diskStatuses(ctx.options.folders)
    .map(
      (d) =>
        `<tr><td>${escapeHtml(d.dir)}</td><td>${escapeHtml(d.diskType || "hdd")}</td><td>${bytes(Number(d.all))}</td><td>${bytes(Number(d.free))}</td><td>${d.percentUsed.toFixed(1)}%</td></tr>`,
    )
    .join("\n");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SeaweedFS volume server ${escapeHtml(ctx.options.id)}</title>
<link rel="icon" href="/favicon.ico">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b2733}h1{font-size:1.4rem;display:flex;gap:.6rem;align-items:center}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #d5dde5;padding:.3rem .8rem;text-align:left}
th{background:#eef3f8}.meta{color:#50606e}
</style></head><body>
<h1><img src="/seaweedfsstatic/seaweed50x50.png" width="32" height="32" alt="">Volume server ${escapeHtml(ctx.options.id)}</h1>
<p class="meta">Version ${escapeHtml(ctx.version)} &middot; master ${escapeHtml(ctx.state.currentMaster || "not connected")} &middot; data center ${escapeHtml(ctx.options.dataCenter || "-")} &middot; rack ${escapeHtml(ctx.options.rack || "-")}</p>
<h2>Disks</h2><table><tr><th>Directory</th><th>Type</th><th>Size</th><th>Free</th><th>Used</th></tr>
${disks}</table>
<h2>Volumes (${volumes.length})</h2><table><tr><th>Id</th><th>Collection</th><th>Directory</th><th>Size</th><th>Files</th><th>Deleted</th><th>Replication</th><th>TTL</th><th>State</th></tr>
${rows}</table>
</body></html>`;
  res.writeHead(200, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Length": Buffer.byteLength(html),
  });
  res.end(html);
}
