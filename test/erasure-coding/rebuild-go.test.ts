// VolumeEcShardsRebuild against the bitrot sidecar (.ecsum), ours beside the real Go `weed volume`:
// both encode the same fixture volume, then each case damages both copies alike and both servers
// must answer alike: a corrupt surviving shard is left out and regenerated in place, too many
// mismatches or a broken sidecar refuse the rebuild (with weed's message), a sidecar the rebuilt
// shards do not match aborts it leaving nothing behind, and a volume without a sidecar still
// rebuilds and gets one written.

import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { VolumeScrubMode, VolumeServerClient } from "../../src/pb/volume_server.js";
import { loadSidecar, saveSidecar } from "../../src/storage/erasure-coding/bitrot.js";
import { shardExt } from "../../src/storage/erasure-coding/layout.js";
import { type Master, scratchDir, startMaster, startVolume, type VolumeProc } from "../support/processes.js";

const FIXTURE = "/work/shared/fixtures/seaweedfs-go/erasure_coding--1";
const KINDS = ["go", "ours"] as const;
type Kind = (typeof KINDS)[number];

let scratch: ReturnType<typeof scratchDir>;
let master: Master;
const servers = new Map<Kind, VolumeProc>();
const bases = new Map<Kind, string>();
/** Every shard and the sidecar as encoded, per server (the sidecars differ in their encode id). */
const pristine = new Map<Kind, Map<string, Buffer>>();
const FILES = [...Array.from({ length: 14 }, (_, i) => shardExt(i)), ".ecsum", ".vif"];

interface Outcome {
  ids?: number[];
  res?: Record<string, unknown>;
  code?: number;
  message?: string;
}

type Method =
  | "volumeEcShardsGenerate"
  | "volumeEcShardsRebuild"
  | "volumeEcShardsMount"
  | "volumeEcShardsUnmount"
  | "scrubEcVolume";

function call<T>(kind: Kind, method: Method, req: T) {
  const client = new VolumeServerClient(
    `127.0.0.1:${servers.get(kind)!.grpcPort}`,
    credentials.createInsecure(),
  );
  return new Promise<Outcome>((resolve) =>
    // biome-ignore lint/suspicious/noExplicitAny: one helper for two request types
    (client[method] as any)(
      req,
      (err: ServiceError | null, res: { rebuiltShardIds?: number[] } & Record<string, unknown>) => {
        client.close();
        if (err) resolve({ code: err.code, message: err.details.replaceAll(bases.get(kind)!, "<base>") });
        else resolve({ ids: res.rebuiltShardIds ?? [], res });
      },
    ),
  );
}

const rebuild = (kind: Kind, unsafeIgnoreSidecar = false) =>
  call(kind, "volumeEcShardsRebuild", { volumeId: 1, collection: "", unsafeIgnoreSidecar });

/** Puts every file back as encoded. */
function restore(kind: Kind): void {
  for (const [ext, bytes] of pristine.get(kind)!) writeFileSync(bases.get(kind)! + ext, bytes);
}

function flipByte(path: string, at: number): void {
  const b = readFileSync(path);
  b[at] = b[at]! ^ 0xff;
  writeFileSync(path, b);
}

/** Rewrites the sidecar with wrong block CRCs for `shard` (the shard itself is untouched). */
function staleEntry(base: string, shard: number): void {
  const p = loadSidecar(`${base}.ecsum`)!;
  const entry = p.shards.find((s) => s.shardId === shard)!;
  entry.blockCrc32c = Buffer.from(entry.blockCrc32c.map((b) => b ^ 1));
  saveSidecar(`${base}.ecsum`, p);
}

/** Runs `damage` on both servers' files, rebuilds on both, asserts the same outcome; returns it. */
async function both(damage: (base: string) => void, unsafe = false): Promise<Outcome> {
  const outcomes: Outcome[] = [];
  for (const kind of KINDS) {
    restore(kind);
    damage(bases.get(kind)!);
    outcomes.push(await rebuild(kind, unsafe));
  }
  assert.deepEqual(outcomes[1], outcomes[0], "ours answers as weed does");
  return outcomes[0]!;
}

function assertShardsPristine(): void {
  for (const kind of KINDS) {
    for (let i = 0; i < 14; i++) {
      const ext = shardExt(i);
      assert.ok(readFileSync(bases.get(kind)! + ext).equals(pristine.get(kind)!.get(ext)!), `${kind} ${ext}`);
    }
    assert.equal(existsSync(`${bases.get(kind)}${shardExt(3)}.rebuilding`), false, "no temp file left");
  }
}

before(async () => {
  scratch = scratchDir("ec-rebuild-go-");
  master = await startMaster(scratch.dir);
  for (const kind of KINDS) {
    const dir = join(scratch.dir, kind);
    mkdirSync(dir, { recursive: true });
    copyFileSync(`${FIXTURE}.dat`, join(dir, "1.dat"));
    copyFileSync(`${FIXTURE}.idx`, join(dir, "1.idx"));
    bases.set(kind, join(dir, "1"));
    servers.set(kind, await startVolume(kind, scratch.dir, dir, master));
    const generated = await call(kind, "volumeEcShardsGenerate", { volumeId: 1, collection: "" });
    assert.ok(generated.ids, `${kind} generate: ${generated.message}`);
    pristine.set(kind, new Map(FILES.map((ext) => [ext, readFileSync(bases.get(kind)! + ext)])));
  }
});

after(async () => {
  for (const s of servers.values()) await s.proc.stop();
  await master?.proc.stop();
  scratch?.cleanup();
});

describe("VolumeEcShardsRebuild with the .ecsum sidecar, as weed", () => {
  test("a corrupt surviving shard is left out and regenerated in place", async () => {
    const outcome = await both((base) => {
      rmSync(base + shardExt(0));
      rmSync(base + shardExt(13));
      flipByte(base + shardExt(3), 1000);
    });
    assert.deepEqual(outcome.ids, [0, 13, 3]);
    assertShardsPristine();
  });

  test("a corrupt shard is regenerated even when none is missing", async () => {
    const outcome = await both((base) => flipByte(base + shardExt(11), 7));
    assert.deepEqual(outcome.ids, [11]);
    assertShardsPristine();
  });

  test("a truncated shard counts as corrupt", async () => {
    const outcome = await both((base) => {
      rmSync(base + shardExt(5));
      writeFileSync(base + shardExt(2), readFileSync(base + shardExt(2)).subarray(0, 4096));
    });
    assert.deepEqual(outcome.ids, [5, 2]);
    assertShardsPristine();
  });

  test("more mismatching shards than parity: refused, nothing written", async () => {
    const outcome = await both((base) => {
      rmSync(base + shardExt(0));
      for (const i of [1, 2, 3, 4, 6]) flipByte(base + shardExt(i), 10);
    });
    assert.ok(outcome.message?.includes("bitrot sidecar suspect"), outcome.message);
    for (const kind of KINDS) assert.equal(existsSync(bases.get(kind)! + shardExt(0)), false);
  });

  test("too few verified shards: refused", async () => {
    const outcome = await both((base) => {
      for (const i of [0, 1, 2]) rmSync(base + shardExt(i));
      for (const i of [3, 4]) flipByte(base + shardExt(i), 10);
    });
    assert.ok(outcome.message?.includes("verified-good shards"), outcome.message);
  });

  test("rebuilt shards that do not match the sidecar: aborted, outputs removed", async () => {
    const outcome = await both((base) => {
      staleEntry(base, 0);
      rmSync(base + shardExt(0));
      rmSync(base + shardExt(7));
    });
    assert.ok(outcome.message?.includes("regenerated shard 0"), outcome.message);
    for (const kind of KINDS) {
      assert.equal(existsSync(bases.get(kind)! + shardExt(0)), false);
      assert.equal(existsSync(bases.get(kind)! + shardExt(7)), false);
    }
  });

  test("a broken sidecar refuses the rebuild unless told to ignore it", async () => {
    const broken = (base: string) => {
      writeFileSync(`${base}.ecsum`, "not a sidecar");
      rmSync(base + shardExt(9));
    };
    const refused = await both(broken);
    assert.ok(refused.message?.includes("malformed/unverifiable"), refused.message);
    const forced = await both(broken, true);
    assert.deepEqual(forced.ids, [9]);
    assertShardsPristine();
  });

  test("no .vif: the sidecar gives the layout; a broken one then fails the rebuild", async () => {
    const fromSidecar = await both((base) => {
      rmSync(`${base}.vif`);
      rmSync(base + shardExt(4));
    });
    assert.deepEqual(fromSidecar.ids, [4]);
    assertShardsPristine();
    const broken = await both((base) => {
      rmSync(`${base}.vif`);
      writeFileSync(`${base}.ecsum`, "ECSU");
      rmSync(base + shardExt(4));
    });
    assert.ok(broken.message?.includes("no usable .vif"), broken.message);
  });

  test("no sidecar (an older volume): rebuilds, and the sidecar is written from the shards", async () => {
    const outcome = await both((base) => {
      rmSync(`${base}.ecsum`);
      rmSync(base + shardExt(1));
      rmSync(base + shardExt(12));
    });
    assert.deepEqual(outcome.ids, [1, 12]);
    assertShardsPristine();
    for (const kind of KINDS) {
      const base = bases.get(kind)!;
      const written = loadSidecar(`${base}.ecsum`);
      assert.ok(written, `${kind} wrote the sidecar`);
      writeFileSync(`${base}.ecsum.encoded`, pristine.get(kind)!.get(".ecsum")!);
      const encoded = loadSidecar(`${base}.ecsum.encoded`)!;
      rmSync(`${base}.ecsum.encoded`);
      assert.deepEqual(written.shards, encoded.shards, `${kind}: the encode's block CRCs`);
      assert.deepEqual(written.ecShardConfig, {
        ...encoded.ecShardConfig,
        encodeTsNs: written.ecShardConfig?.encodeTsNs,
      });
    }
  });
});

describe("ScrubEcVolume CHECKSUM against the .ecsum sidecar, as weed", () => {
  const ALL = Array.from({ length: 14 }, (_, i) => i);

  /** Damages both copies alike, mounts every shard (so the sidecar is read afresh), scrubs. */
  async function scrubBoth(damage: (base: string) => void) {
    const outcomes: { details: string[]; broken: number[]; volumes: number[] }[] = [];
    for (const kind of KINDS) {
      restore(kind);
      damage(bases.get(kind)!);
      const mounted = await call(kind, "volumeEcShardsMount", { volumeId: 1, collection: "", shardIds: ALL });
      assert.ok(mounted.res, `${kind} mount: ${mounted.message}`);
      const { res, message } = await call(kind, "scrubEcVolume", {
        mode: VolumeScrubMode.CHECKSUM,
        volumeIds: [1],
      });
      assert.ok(res, `${kind} scrub: ${message}`);
      await call(kind, "volumeEcShardsUnmount", { volumeId: 1, shardIds: ALL });
      const infos = res.brokenShardInfos as { shardId: number }[];
      outcomes.push({
        details: (res.details as string[]).map((d) => d.replaceAll(bases.get(kind)!, "<base>")),
        broken: infos.map((i) => i.shardId),
        volumes: res.brokenVolumeIds as number[],
      });
    }
    assert.deepEqual(outcomes[1], outcomes[0], "ours answers as weed does");
    return outcomes[0]!;
  }

  test("healthy shards, and no sidecar: nothing reported", async () => {
    assert.deepEqual(await scrubBoth(() => {}), { details: [], broken: [], volumes: [] });
    const none = await scrubBoth((base) => rmSync(`${base}.ecsum`));
    assert.deepEqual(none, { details: [], broken: [], volumes: [] });
  });

  test("a corrupt shard is flagged, Reed-Solomon agreeing", async () => {
    const out = await scrubBoth((base) => flipByte(base + shardExt(12), 99));
    assert.deepEqual(out.broken, [12]);
    assert.deepEqual(out.volumes, [1]);
  });

  test("a stale sidecar entry is not flagged: Reed-Solomon vouches for the bytes", async () => {
    const out = await scrubBoth((base) => staleEntry(base, 5));
    assert.deepEqual(out.broken, []);
    assert.ok(
      out.details.some((d) => d.includes("stale sidecar")),
      out.details.join("; "),
    );
  });

  test("more mismatching shards than parity: the sidecar is suspect", async () => {
    const out = await scrubBoth((base) => {
      for (const i of [0, 2, 4, 6, 8]) flipByte(base + shardExt(i), 3);
    });
    assert.deepEqual(out.broken, []);
    assert.ok(out.details[0]?.includes("suspect stale sidecar"), out.details.join("; "));
  });
});
