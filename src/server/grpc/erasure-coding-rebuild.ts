// VolumeEcShardsRebuild (weed's volume_grpc_erasure_coding.go): writes the shards missing here from
// the ones present, on the EC worker thread, on the disk holding the .ecx with the most shards (the
// other disks lend theirs). The bitrot sidecar, when there is one, guards it (rebuild.ts); when
// there is none (a volume encoded before sidecars), the rebuild's own pass yields the block CRCs of
// every shard and the sidecar is written afterwards, as weed backfills it.

import { existsSync, readdirSync } from "node:fs";
import type { VolumeEcShardsRebuildRequest } from "../../pb/volume_server.js";
import { buildProtection, SIDECAR_EXT, saveSidecar } from "../../storage/erasure-coding/bitrot.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import { ecBaseName } from "../../storage/erasure-coding/ec-volume.js";
import { rebuildInWorker } from "../../storage/erasure-coding/encoder.js";
import {
  DATA_SHARDS,
  PARITY_SHARDS,
  shardExt,
  validShardCounts,
} from "../../storage/erasure-coding/layout.js";
import {
  findRebuildSidecar,
  judgeRebuildSidecar,
  type RebuildLayout,
  sidecarLayout,
} from "../../storage/erasure-coding/rebuild-sidecar.js";
import type { DiskLocation } from "../../storage/store/disk-location.js";
import { loadVolumeInfo } from "../../storage/volume/volume-info.js";
import type { ServerContext } from "../context.js";

/** The shard layout: the .vif's, else the sidecar's, else the default (weed's order and messages). */
function rebuildLayout(dataBase: string, sidecar: string | undefined): RebuildLayout {
  const info = loadVolumeInfo(`${dataBase}.vif`)?.ecShardConfig;
  if (info) {
    if (!validShardCounts(info.dataShards, info.parityShards)) {
      throw new Error(
        `resolve rebuild layout for ${dataBase}: RebuildEcFiles ${dataBase}: ${dataBase}.vif records invalid shard counts ${info.dataShards}+${info.parityShards}`,
      );
    }
    return {
      dataShards: info.dataShards,
      parityShards: info.parityShards,
      blockSize: Number(info.blockSize ?? 0),
    };
  }
  if (sidecar) {
    try {
      return sidecarLayout(sidecar);
    } catch (err) {
      throw new Error(
        `resolve rebuild layout for ${dataBase}: RebuildEcFiles ${dataBase}: no usable .vif and ${(err as Error).message}`,
      );
    }
  }
  return { dataShards: DATA_SHARDS, parityShards: PARITY_SHARDS, blockSize: 0 };
}

/** Rebuilds the volume's missing (and corrupt) shards here; the ids written. */
export async function rebuildEcShards(
  ctx: ServerContext,
  req: VolumeEcShardsRebuildRequest,
): Promise<number[]> {
  const { volumeId, collection } = req;
  let best: { location: DiskLocation; shards: number } | undefined;
  for (const location of ctx.store.locations) {
    const hasEcx =
      existsSync(`${ecBaseName(location.idxDirectory, collection, volumeId)}.ecx`) ||
      existsSync(`${ecBaseName(location.directory, collection, volumeId)}.ecx`);
    if (!hasEcx) continue;
    const base = collection ? `${collection}_${volumeId}` : String(volumeId);
    const shards = readdirSync(location.directory).filter(
      (n) => /^\.ec[0-9]{2}$/.test(n.slice(base.length)) && n.startsWith(base),
    ).length;
    if (!best || shards > best.shards) best = { location, shards };
  }
  if (!best) return [];
  const dataBase = ecBaseName(best.location.directory, collection, volumeId);
  const indexBase = ecBaseName(best.location.idxDirectory, collection, volumeId);
  const otherDirs = ctx.store.locations
    .filter((l) => l !== best.location)
    .flatMap((l) => [l.directory, l.idxDirectory]);
  const sidecarPath = findRebuildSidecar(dataBase, indexBase, otherDirs);
  const layout = rebuildLayout(dataBase, sidecarPath);
  const { dataShards, parityShards } = layout;
  const sidecar = judgeRebuildSidecar(sidecarPath, layout);
  if (sidecar.status === "invalid" && !req.unsafeIgnoreSidecar) {
    throw new Error(
      `RebuildEcFiles ${dataBase}: bitrot sidecar for ${dataBase} is malformed/unverifiable; refusing to rebuild (pass unsafeIgnoreSidecar to override)`,
    );
  }
  const files = ecStoreOf(ctx.store).shardFiles(collection, volumeId);
  const total = dataShards + parityShards;
  const shardPaths = Array.from({ length: total }, (_, i) => files.get(i) ?? dataBase + shardExt(i));
  const present = shardPaths.map((_, i) => files.has(i));
  let result: Awaited<ReturnType<typeof rebuildInWorker>>;
  try {
    result = await rebuildInWorker({
      baseName: dataBase,
      shardPaths,
      present,
      dataShards,
      parityShards,
      checksums: sidecar.status === "on" && !req.unsafeIgnoreSidecar ? sidecar.checksums : undefined,
      backfill: sidecarPath === undefined,
    });
  } catch (err) {
    throw new Error(`RebuildEcFiles ${dataBase}: ${(err as Error).message}`);
  }
  // A mounted shard that was replaced in place still reads the old file through its handle.
  for (const { volume } of ecStoreOf(ctx.store).findAll(volumeId)) {
    for (const shard of result.replaced) {
      if (volume.unmountShard(shard)) volume.mountShard(shard);
    }
  }
  if (result.backfill) {
    try {
      saveSidecar(dataBase + SIDECAR_EXT, buildProtection(layout, result.backfill));
    } catch {
      // The backfill is opportunistic: the rebuild itself succeeded.
    }
  }
  return result.rebuilt;
}
