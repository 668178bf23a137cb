// EC shard RPCs (weed's volume_grpc_erasure_coding.go): mount and unmount shards, read a shard's
// bytes for peers, delete a needle in an EC volume, delete shard files, and report a volume's
// shards and counts.

import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  EcShardInfo,
  VolumeEcBlobDeleteResponse,
  VolumeEcShardsDeleteResponse,
  VolumeEcShardsInfoResponse,
  VolumeEcShardsMountResponse,
  VolumeEcShardsUnmountResponse,
  type VolumeServerServer,
} from "../../pb/volume_server.js";
import { SIDECAR_EXT } from "../../storage/erasure-coding/bitrot.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import { MAX_SHARD_COUNT, shardExt } from "../../storage/erasure-coding/layout.js";
import type { DiskLocation } from "../../storage/store/disk-location.js";
import { rawSize } from "../../storage/types.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, unary } from "./call.js";
import { send, serverStream } from "./streaming.js";
import { checkMaintenance } from "./volume-admin.js";

/** Largest frame of shard bytes sent at once (weed's BufferSizeLimit). */
const FRAME = 2 * 1024 * 1024;

function baseName(collection: string, id: number): string {
  return collection ? `${collection}_${id}` : String(id);
}

/** What one disk holds of an EC volume: index files, a .idx, and how many shard files. */
function diskStatus(location: DiskLocation, base: string): { ecx: boolean; idx: boolean; shards: number } {
  const names = new Set(readdirSync(location.directory));
  if (location.idxDirectory !== location.directory) {
    for (const n of readdirSync(location.idxDirectory)) names.add(n);
  }
  let shards = 0;
  for (let i = 0; i < MAX_SHARD_COUNT; i++) if (names.has(base + shardExt(i))) shards++;
  return {
    ecx: names.has(`${base}.ecx`) || names.has(`${base}.ecj`),
    idx: names.has(`${base}.idx`),
    shards,
  };
}

export function ecShardsService(
  ctx: ServerContext,
): Pick<
  VolumeServerServer,
  | "volumeEcShardsMount"
  | "volumeEcShardsUnmount"
  | "volumeEcShardRead"
  | "volumeEcBlobDelete"
  | "volumeEcShardsDelete"
  | "volumeEcShardsInfo"
> {
  const ec = ecStoreOf(ctx.store);
  return {
    volumeEcShardsMount: unary(async (call) => {
      const { volumeId, collection, shardIds } = call.request;
      for (const shard of shardIds) {
        try {
          ec.mountShard(collection, volumeId, shard);
        } catch (err) {
          throw new Error(`mount ${volumeId}.${shard}: ${(err as Error).message}`);
        }
      }
      return VolumeEcShardsMountResponse.create();
    }),

    volumeEcShardsUnmount: unary(async (call) => {
      checkAdminAuth(ctx, call);
      for (const shard of call.request.shardIds) ec.unmountShard(call.request.volumeId, shard);
      return VolumeEcShardsUnmountResponse.create();
    }),

    volumeEcShardRead: serverStream(async (call) => {
      const { volumeId, shardId, offset, size, fileKey, encodeTsNs } = call.request;
      const volume = ec.findWithShard(volumeId, shardId);
      if (!volume) throw new Error(`not found ec shard ${volumeId}.${shardId}`);
      if (encodeTsNs !== 0n && encodeTsNs !== volume.encodeTsNs) {
        throw new Error(`ec shard ${volumeId}.${shardId} belongs to a different encode run`);
      }
      if (fileKey !== 0n) {
        const found = volume.findNeedle(fileKey);
        if (found && found.size < 0) {
          await send(call, { data: Buffer.alloc(0), isDeleted: true, encodeTsNs: volume.encodeTsNs });
          return;
        }
      }
      let at = Number(offset);
      let left = Number(size);
      while (left > 0) {
        const chunk = volume.readShard(shardId, at, Math.min(FRAME, left));
        if (chunk.length === 0) break;
        await send(call, { data: chunk, isDeleted: false, encodeTsNs: volume.encodeTsNs });
        at += chunk.length;
        left -= chunk.length;
      }
    }),

    volumeEcBlobDelete: unary(async (call) => {
      checkMaintenance(ctx);
      const { volumeId, fileKey } = call.request;
      const volume = ec.find(volumeId);
      volume?.deleteNeedle(fileKey);
      return VolumeEcBlobDeleteResponse.create();
    }),

    volumeEcShardsDelete: unary(async (call) => {
      checkAdminAuth(ctx, call);
      const { volumeId, collection, shardIds, fullTeardown } = call.request;
      const base = baseName(collection, volumeId);
      const all = Array.from({ length: MAX_SHARD_COUNT }, (_, i) => i);
      if (fullTeardown) ec.unloadVolume(volumeId);
      for (const location of ctx.store.locations) {
        for (const shard of fullTeardown ? all : shardIds) {
          rmSync(join(location.directory, base + shardExt(shard)), { force: true });
        }
      }
      // The index files go only once no disk holds a shard of the volume any more; a disk left
      // without shards loses its checksum sidecar.
      const statuses = ctx.store.locations.map((location) => ({ location, ...diskStatus(location, base) }));
      for (const { location, shards } of statuses) {
        if (shards === 0) rmSync(join(location.directory, base + SIDECAR_EXT), { force: true });
      }
      if (statuses.every((s) => s.shards === 0)) {
        for (const { location, ecx, idx } of statuses) {
          if (ecx) {
            for (const dir of new Set([location.idxDirectory, location.directory])) {
              rmSync(join(dir, `${base}.ecx`), { force: true });
              rmSync(join(dir, `${base}.ecj`), { force: true });
            }
          }
          if (!idx && !existsSync(join(location.idxDirectory, `${base}.idx`))) {
            rmSync(join(location.directory, `${base}.vif`), { force: true });
          }
        }
      }
      return VolumeEcShardsDeleteResponse.create({ fullTeardownDone: fullTeardown });
    }),

    volumeEcShardsInfo: unary(async (call) => {
      const { volumeId } = call.request;
      const located = ec.findAll(volumeId);
      const primary = located[0]?.volume;
      if (!primary) throw new Error(`VolumeEcShardsInfo: EC volume ${volumeId} not found`);
      const seen = new Set<number>();
      const ecShardInfos: EcShardInfo[] = [];
      for (const { volume } of located) {
        for (const shard of volume.shardIds()) {
          if (seen.has(shard)) continue;
          seen.add(shard);
          ecShardInfos.push(
            EcShardInfo.create({
              shardId: shard,
              size: BigInt(volume.shards.get(shard)!.size),
              collection: volume.collection,
              volumeId,
            }),
          );
        }
      }
      let files = 0n;
      let deleted = 0n;
      let total = 0n;
      primary.walkIndex((_id, _offset, size) => {
        total += BigInt(rawSize(size));
        if (size < 0) deleted++;
        else files++;
      });
      return VolumeEcShardsInfoResponse.create({
        ecShardInfos,
        fileCount: files,
        fileDeletedCount: deleted,
        volumeSize: total,
        ecShardConfig: {
          dataShards: primary.geometry.dataShards,
          parityShards: primary.geometry.parityShards,
          encodeTsNs: 0n,
          blockSize: BigInt(primary.geometry.blockSize),
        },
      });
    }),
  };
}
