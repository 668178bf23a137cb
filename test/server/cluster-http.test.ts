// The HTTP paths that need more than one volume server, on three of ours and a real weed master:
// reads of volumes held elsewhere by readMode (local 404, proxy fetches with the `proxied` loop
// guard, redirect 301), and replication: writes and deletes on a 001 volume reach the replica
// (with type=replicate the forward is not repeated), and a write fails as weed's does when the
// replica refuses it. Expected answers follow weed's handlers (volume_server_handlers_read.go,
// topology/store_replicate.go); SeaweedFS's own suite checks the same against weed.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { credentials } from "@grpc/grpc-js";
import { VolumeServerClient } from "../../src/pb/volume_server.js";
import { formatFileId } from "../../src/storage/needle/file-id.js";
import { COOKIE, writeVolume } from "../http/twin.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

const HELD = 20;
let scratch: ReturnType<typeof scratchDir>;
let master: Master;
/** holder: readMode=local, holds volume HELD; proxy and redirect: readMode as named. */
const servers: Record<"holder" | "proxy" | "redirect", VolumeProc> = {} as never;

before(async () => {
  scratch = scratchDir("wv-cluster-http-");
  master = await startMaster(scratch.dir);
  for (const [name, mode] of [
    ["holder", "local"],
    ["proxy", "proxy"],
    ["redirect", "redirect"],
  ] as const) {
    const data = join(scratch.dir, name);
    mkdirSync(data);
    if (name === "holder")
      writeVolume(data, HELD, [{ key: 1, data: Buffer.from("held elsewhere"), name: "h.txt" }]);
    servers[name] = await startVolume("ours", scratch.dir, data, master, [`-readMode=${mode}`]);
  }
  // Every server, and the held volume, must be known to the master before lookups and growth.
  for (let i = 0; i < 200; i++) {
    const topo = JSON.stringify(await (await fetch(`${master.url}/dir/status`)).json());
    const lookup = await fetch(`${master.url}/dir/lookup?volumeId=${HELD}`);
    if ((topo.match(/"Url":/g)?.length ?? 0) >= 3 && lookup.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  await Promise.all(Object.values(servers).map((s) => s.proc.stop()));
  await master?.proc.stop();
  scratch?.cleanup();
});

const held = formatFileId(HELD, 0, 1, COOKIE);
const get = (s: VolumeProc, path: string) => fetch(s.url + path, { redirect: "manual" });

test("a volume held elsewhere: local 404, proxy fetches it once, redirect 301", async () => {
  const local = await get(servers.holder, `/${formatFileId(HELD + 1, 0, 1, COOKIE)}`);
  assert.equal(local.status, 404, "readMode=local knows only its own volumes");

  const proxied = await get(servers.proxy, `/${held}`);
  assert.equal(proxied.status, 200);
  assert.equal(await proxied.text(), "held elsewhere");
  const ranged = await fetch(`${servers.proxy.url}/${held}`, { headers: { Range: "bytes=0-3" } });
  assert.equal(ranged.status, 206);
  assert.equal(await ranged.text(), "held");
  // The loop guard: a request already proxied is never proxied again.
  const loop = await get(servers.proxy, `/${held}?proxied=true`);
  assert.equal(loop.status, 404);

  const redirected = await get(servers.redirect, `/${held}?collection=&readDeleted=true`);
  assert.equal(redirected.status, 301);
  const location = redirected.headers.get("location") ?? "";
  assert.ok(location.startsWith(`${servers.holder.url}/${held}`), `redirect to the holder: ${location}`);
  assert.match(location, /proxied=true/);
  assert.doesNotMatch(location, /readDeleted/, "weed's redirect keeps only the collection");
  assert.equal((await get(servers.redirect, `/${held}?proxied=true`)).status, 404);
});

interface Assignment {
  fid: string;
  url: string;
  error?: string;
}

async function replicated(): Promise<{ fid: string; primary: VolumeProc; replica: VolumeProc; vid: number }> {
  const grow = await fetch(`${master.url}/vol/grow?replication=001&count=1&collection=rep`);
  assert.equal(grow.status, 200, await grow.text());
  const a = (await (
    await fetch(`${master.url}/dir/assign?replication=001&collection=rep`)
  ).json()) as Assignment;
  assert.ok(a.fid, `assign: ${JSON.stringify(a)}`);
  const vid = Number(a.fid.split(",")[0]);
  const lookup = (await (await fetch(`${master.url}/dir/lookup?volumeId=${vid}`)).json()) as {
    locations: { url: string }[];
  };
  const holders = Object.values(servers).filter((s) => lookup.locations.some((l) => s.url.endsWith(l.url)));
  assert.equal(holders.length, 2, `two holders of a 001 volume: ${JSON.stringify(lookup)}`);
  return { fid: a.fid, primary: holders[0]!, replica: holders[1]!, vid };
}

test("writes and deletes on a 001 volume reach the replica; type=replicate is not forwarded again", async () => {
  const { fid, primary, replica } = await replicated();
  const put = await fetch(`${primary.url}/${fid}`, {
    method: "POST",
    headers: { "Content-Type": "text/plain" },
    body: "on both servers",
  });
  assert.equal(put.status, 201, await put.text());
  const copy = await fetch(`${replica.url}/${fid}?proxied=true`);
  assert.equal(copy.status, 200);
  assert.equal(await copy.text(), "on both servers");

  const del = await fetch(`${primary.url}/${fid}`, { method: "DELETE" });
  assert.equal(del.status, 202);
  assert.equal(
    (await fetch(`${replica.url}/${fid}?proxied=true`)).status,
    404,
    "the delete reached the replica",
  );

  // A replicated write is the replica's own: it goes no further.
  const [vid, rest] = fid.split(",");
  const other = `${vid},ff${rest}`; // another key, same cookie
  const only = await fetch(`${primary.url}/${other}?type=replicate`, {
    method: "POST",
    headers: { "Content-Type": "text/plain" },
    body: "here only",
  });
  assert.equal(only.status, 201, await only.text());
  assert.equal((await fetch(`${replica.url}/${other}?proxied=true`)).status, 404);
});

test("a write fails with weed's 500 when a replica refuses it", async () => {
  const { fid, primary, replica, vid } = await replicated();
  const client = new VolumeServerClient(`127.0.0.1:${replica.grpcPort}`, credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) =>
      client.volumeMarkReadonly({ volumeId: vid, persist: false, canDelete: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  } finally {
    client.close();
  }
  const res = await fetch(`${primary.url}/${fid}`, {
    method: "POST",
    headers: { "Content-Type": "text/plain" },
    body: "refused by the replica",
  });
  assert.equal(res.status, 500);
  const body = (await res.json()) as { error: string };
  // Which of weed's two failures depends on whether the master has heard of the read-only replica
  // yet: the replica's refusal, or too few writable locations to start with.
  assert.match(
    body.error,
    new RegExp(
      `^(failed to write to replicas for volume ${vid}: |writable replication locations \\[1\\] is less than volume ${vid} replication copy count \\[2\\])`,
    ),
  );
});
