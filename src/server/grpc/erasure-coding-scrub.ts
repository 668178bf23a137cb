// ScrubEcVolume (weed's volume_grpc_scrub.go, EC volumes): checks the named EC volumes, or all of
// them, in the requested mode and reports broken volumes and shards. CHECKSUM checks the local
// shards against the bitrot sidecar (ec-checksum-scrub.ts).

import {
  EcShardInfo,
  ScrubEcVolumeResponse,
  VolumeScrubMode,
  type VolumeServerServer,
} from "../../pb/volume_server.js";
import { scrubEcChecksums } from "../../storage/erasure-coding/ec-checksum-scrub.js";
import { type EcScrubResult, scrubEcIndex, scrubEcNeedles } from "../../storage/erasure-coding/ec-scrub.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import type { EcVolume } from "../../storage/erasure-coding/ec-volume.js";
import { findRebuildSidecar, judgeRebuildSidecar } from "../../storage/erasure-coding/rebuild-sidecar.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, unary } from "./call.js";
import { peerShardFetcher } from "./erasure-coding-read.js";

async function scrub(ctx: ServerContext, v: EcVolume, mode: VolumeScrubMode): Promise<EcScrubResult> {
  switch (mode) {
    case VolumeScrubMode.INDEX:
      return { ...scrubEcIndex(v), brokenShards: [] };
    case VolumeScrubMode.LOCAL:
      return scrubEcNeedles(v, "local");
    case VolumeScrubMode.FULL:
      return scrubEcNeedles(v, "full", peerShardFetcher(ctx, v));
    case VolumeScrubMode.READS:
      return scrubEcNeedles(v, "reads", peerShardFetcher(ctx, v));
    case VolumeScrubMode.CHECKSUM: {
      const dirs = ctx.store.locations.flatMap((l) => [l.directory, l.idxDirectory]);
      const path = findRebuildSidecar(v.dataBase, v.indexBase, dirs);
      return scrubEcChecksums(v, judgeRebuildSidecar(path, v.geometry));
    }
    default:
      throw new Error(`unsupported EC volume scrub mode ${mode}`);
  }
}

export function ecScrubService(ctx: ServerContext): Pick<VolumeServerServer, "scrubEcVolume"> {
  const ec = ecStoreOf(ctx.store);
  return {
    scrubEcVolume: unary(async (call) => {
      checkAdminAuth(ctx, call);
      const { mode, volumeIds, forceDeletedNeedlesCheck } = call.request;
      if (forceDeletedNeedlesCheck && mode !== VolumeScrubMode.FULL && mode !== VolumeScrubMode.READS) {
        throw new Error("deleted needle checks are only supported for FULL and READS scrubs");
      }
      const explicit = volumeIds.length > 0;
      const ids = explicit ? volumeIds : [...new Set([...ec.volumes()].map((l) => l.volume.id))];
      const response = ScrubEcVolumeResponse.create();
      for (const id of ids) {
        const v = ec.find(id);
        if (!v) {
          if (explicit) throw new Error(`EC volume id ${id} not found`);
          continue;
        }
        const result = await scrub(ctx, v, mode);
        response.totalVolumes++;
        response.totalFiles += BigInt(result.files);
        if (result.problems.length > 0 || result.brokenShards.length > 0) {
          response.brokenVolumeIds.push(id);
          response.details.push(...result.problems);
          for (const shard of result.brokenShards) {
            response.brokenShardInfos.push(
              EcShardInfo.create({
                shardId: shard,
                size: BigInt(v.shards.get(shard)?.size ?? 0),
                collection: v.collection,
                volumeId: id,
              }),
            );
          }
        }
      }
      return response;
    }),
  };
}
