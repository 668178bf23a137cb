// ScrubVolume (weed's volume_grpc_scrub.go, regular volumes): checks the named volumes, or all of
// them, in the requested mode and reports the broken ones; optionally marks those read-only.

import { ScrubVolumeResponse, VolumeScrubMode, type VolumeServerServer } from "../../pb/volume_server.js";
import { type ScrubResult, scrubIndex, scrubVolume } from "../../storage/volume/scrub.js";
import type { Volume } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, unary } from "./call.js";
import { makeVolumeReadonly } from "./volume-admin.js";

async function scrub(v: Volume, mode: VolumeScrubMode): Promise<ScrubResult> {
  switch (mode) {
    case VolumeScrubMode.INDEX:
      return scrubIndex(v);
    // A regular volume has no shards to stay local to or rebuild from: these are all a full scrub.
    case VolumeScrubMode.LOCAL:
    case VolumeScrubMode.READS:
    case VolumeScrubMode.FULL:
      return scrubVolume(v);
    default:
      throw new Error(`unsupported volume scrub mode ${mode}`);
  }
}

export function scrubService(ctx: ServerContext): Pick<VolumeServerServer, "scrubVolume"> {
  return {
    scrubVolume: unary(async (call) => {
      checkAdminAuth(ctx, call);
      const { mode, volumeIds, markBrokenVolumesReadonly } = call.request;
      // Named volumes must exist; from our own listing, one that went away meanwhile is skipped.
      const explicit = volumeIds.length > 0;
      const ids = explicit ? volumeIds : [...ctx.store.volumes()].map((e) => e.volume.id);
      const details: string[] = [];
      const broken: Volume[] = [];
      let totalVolumes = 0n;
      let totalFiles = 0n;
      for (const id of ids) {
        const v = ctx.store.findVolume(id);
        if (!v) {
          if (explicit) throw new Error(`volume id ${id} not found`);
          continue;
        }
        const result = await scrub(v, mode);
        totalVolumes++;
        totalFiles += BigInt(result.files);
        if (result.problems.length > 0) {
          broken.push(v);
          details.push(...result.problems);
        }
      }
      const failures: string[] = [];
      if (markBrokenVolumesReadonly) {
        for (const v of broken) {
          try {
            await makeVolumeReadonly(ctx, v, false, true);
            details.push(`volume ${v.id} is now read-only`);
          } catch (err) {
            failures.push((err as Error).message);
            details.push((err as Error).message);
          }
        }
      }
      if (failures.length > 0) throw new Error(failures.join("\n"));
      return ScrubVolumeResponse.create({
        totalVolumes,
        totalFiles,
        brokenVolumeIds: broken.map((v) => v.id),
        details,
      });
    }),
  };
}
