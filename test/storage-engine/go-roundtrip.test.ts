// A data directory moves between the real pinned weed and us in both directions: volumes written by
// `weed volume` load here with every needle intact, volumes written here are served by `weed volume`,
// and `weed fix` rebuilds from our .dat the very .idx we wrote.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseFileId } from "../../src/storage/needle/file-id.js";
import { FLAG_COMPRESSED, FLAG_HAS_TTL } from "../../src/storage/needle/needle.js";
import { formatTtl } from "../../src/storage/needle/ttl.js";
import { loadVolume } from "../../src/storage/volume/volume-load.js";
import { allocateVolume } from "../support/grpc.js";
import { type Master, scratchDir, startMaster, startVolume, weedBinary } from "../support/processes.js";

let scratch: ReturnType<typeof scratchDir>;
let master: Master;

before(async () => {
  scratch = scratchDir("wv-roundtrip-");
  master = await startMaster(scratch.dir);
});
after(async () => {
  await master?.proc.stop();
  scratch?.cleanup();
});

interface Upload {
  fid: string;
  body: Buffer;
  headers: Record<string, string>;
  query?: string;
  deleted?: boolean;
  /** Sent as a multipart file part with this file name and the part's Content-Type. */
  name?: string;
  mime?: string;
  /** Sent gzipped with Content-Encoding: gzip. */
  gzip?: boolean;
}

function uploads(volumeId: number): Upload[] {
  const list: Upload[] = [];
  for (let i = 1; i <= 40; i++) {
    const fid = `${volumeId},${(0x1000 + i).toString(16)}${(0xabc00000 + i).toString(16)}`;
    const body = Buffer.alloc(100 + i * 37, i % 251);
    const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
    if (i % 5 === 0) headers["Content-Type"] = "text/plain"; // compressible: weed may gzip it
    if (i % 7 === 0) headers["Seaweed-Color"] = `blue-${i}`;
    const upload: Upload = {
      fid,
      body,
      headers,
      query: i % 9 === 0 ? "ttl=7d" : undefined,
      deleted: i % 6 === 0,
    };
    if (i % 4 === 0) {
      upload.name = `file-${i}.dat`;
      upload.mime = i % 8 === 0 ? "image/x-test" : "application/x-test";
    } else if (i % 11 === 0) {
      upload.gzip = true;
    }
    list.push(upload);
  }
  return list;
}

async function writeAll(url: string, list: Upload[]): Promise<void> {
  for (const u of list) {
    let body: Buffer | FormData = u.body;
    const headers = { ...u.headers };
    if (u.name) {
      body = new FormData();
      body.set("file", new Blob([u.body], { type: u.mime }), u.name);
      delete headers["Content-Type"]; // fetch sets the multipart boundary
    } else if (u.gzip) {
      body = gzipSync(u.body);
      headers["Content-Encoding"] = "gzip";
    }
    const r = await fetch(`${url}/${u.fid}${u.query ? `?${u.query}` : ""}`, {
      method: "POST",
      body,
      headers,
    });
    assert.equal(r.status, 201, `upload ${u.fid}: ${await r.text()}`);
  }
  for (const u of list.filter((x) => x.deleted)) {
    const r = await fetch(`${url}/${u.fid}`, { method: "DELETE" });
    assert.equal(r.status, 202, `delete ${u.fid}`);
  }
}

test("a volume written by weed volume loads here with every needle intact", async () => {
  const data = join(scratch.dir, "go-written");
  mkdirSync(data);
  const go = await startVolume("go", scratch.dir, data, master);
  await allocateVolume(go.grpcPort, 11);
  const list = uploads(11);
  await writeAll(go.url, list);
  assert.equal(await go.proc.stop(), 0);

  const v = loadVolume({ dir: data, idxDir: data, collection: "", id: 11 }, { defaultWidth: 4 });
  try {
    assert.equal(v.noWriteOrDelete, false);
    for (const u of list) {
      const { keyHi, keyLo, cookie } = parseFileId(u.fid);
      if (u.deleted) {
        assert.throws(() => v.read(keyHi, keyLo), `${u.fid} was deleted`);
        continue;
      }
      const n = v.read(keyHi, keyLo);
      assert.equal(n.cookie, cookie);
      const content = n.flags & FLAG_COMPRESSED ? gunzipSync(n.data) : n.data;
      assert.deepEqual(content, u.body, u.fid);
      if (u.headers["Seaweed-Color"])
        assert.deepEqual(JSON.parse(n.pairs.toString()), { Color: u.headers["Seaweed-Color"] });
      if (u.name) {
        assert.equal(n.name.toString(), u.name);
        assert.equal(n.mime.toString(), u.mime);
      }
      if (u.gzip) assert.ok(n.flags & FLAG_COMPRESSED, `${u.fid} stored gzipped`);
      if (u.query === "ttl=7d") {
        assert.ok(n.flags & FLAG_HAS_TTL);
        assert.equal(formatTtl(n.ttl), "1w");
      }
    }
  } finally {
    v.close();
  }
});

test("a volume written here is served by weed volume, and weed fix rebuilds our .idx", async () => {
  const data = join(scratch.dir, "ours-written");
  mkdirSync(data);
  const ours = await startVolume("ours", scratch.dir, data, master);
  await allocateVolume(ours.grpcPort, 12);
  const list = uploads(12);
  await writeAll(ours.url, list);
  assert.equal(await ours.proc.stop(), 0);

  const fixDir = join(scratch.dir, "fix");
  mkdirSync(fixDir);
  copyFileSync(join(data, "12.dat"), join(fixDir, "12.dat"));
  execFileSync(weedBinary(), ["fix", "-volumeId=12", fixDir], { stdio: "ignore" });
  assert.deepEqual(
    readFileSync(join(fixDir, "12.idx")),
    readFileSync(join(data, "12.idx")),
    "weed fix gives our .idx",
  );

  const go = await startVolume("go", scratch.dir, data, master);
  try {
    for (const u of list) {
      const r = await fetch(`${go.url}/${u.fid}`);
      const body = Buffer.from(await r.arrayBuffer());
      if (u.deleted) {
        assert.equal(r.status, 404, `${u.fid} was deleted`);
        continue;
      }
      assert.equal(r.status, 200, u.fid);
      assert.deepEqual(body, u.body, u.fid);
      if (u.headers["Seaweed-Color"]) assert.equal(r.headers.get("color"), u.headers["Seaweed-Color"]);
      if (u.name) {
        assert.equal(r.headers.get("content-type"), u.mime);
        assert.match(r.headers.get("content-disposition") ?? "", new RegExp(`filename="?${u.name}"?`));
      }
    }
  } finally {
    await go.proc.stop();
  }
});
