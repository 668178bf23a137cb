// Vacuum RPCs (weed's volume_grpc_vacuum.go): check the garbage ratio, compact with progress
// reports, commit, clean up.

import { cpus, loadavg } from "node:os";
import { type ServerWritableStream, status } from "@grpc/grpc-js";
import {
  VacuumVolumeCheckResponse,
  VacuumVolumeCommitResponse,
  type VacuumVolumeCompactRequest,
  VacuumVolumeCompactResponse,
  type VolumeServerServer,
} from "../../pb/volume_server.js";
import { cleanup, commit, compact, garbageLevel } from "../../storage/volume/vacuum.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { checkMaintenance } from "./volume-admin.js";

const REPORT_EVERY = 128 * 1024 * 1024;

function volumeFor(ctx: ServerContext, id: number, during: string) {
  const v = ctx.store.findVolume(id);
  if (!v) throw failed(status.NOT_FOUND, `volume id ${id} is not found during ${during}: volume not found`);
  return v;
}

export function vacuumService(ctx: ServerContext): Partial<VolumeServerServer> {
  return {
    vacuumVolumeCheck: unary(async (call) => {
      const v = volumeFor(ctx, call.request.volumeId, "check compact");
      return VacuumVolumeCheckResponse.create({ garbageRatio: garbageLevel(v) });
    }),

    vacuumVolumeCompact(call: ServerWritableStream<VacuumVolumeCompactRequest, VacuumVolumeCompactResponse>) {
      const run = async () => {
        checkAdminAuth(ctx, call);
        checkMaintenance(ctx);
        const { volumeId } = call.request;
        const v = ctx.store.findVolume(volumeId);
        if (!v) {
          throw failed(
            status.NOT_FOUND,
            `compact volume ${volumeId}: volume id ${volumeId} is not found during compact: volume not found`,
          );
        }
        let next = REPORT_EVERY;
        await compact(v, {
          bytesPerSecond: ctx.options.compactionMBps * 1024 * 1024,
          onProgress: (processed) => {
            if (call.cancelled) return false;
            if (processed > next) {
              call.write(
                VacuumVolumeCompactResponse.create({
                  processedBytes: BigInt(processed),
                  loadAvg1m: loadavg()[0]! / Math.max(1, cpus().length),
                }),
              );
              next = processed + REPORT_EVERY;
            }
            return true;
          },
        }).catch((err: Error) => {
          throw failed(status.UNKNOWN, `compact volume ${volumeId}: ${err.message}`);
        });
      };
      run().then(
        () => call.end(),
        (err) => call.emit("error", err),
      );
    },

    vacuumVolumeCommit: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const { volumeId } = call.request;
      if (ctx.state.stopping)
        throw failed(status.UNKNOWN, `volume id ${volumeId} skips compact because volume is stopping`);
      const v = ctx.store.findVolume(volumeId);
      if (!v) {
        throw failed(
          status.NOT_FOUND,
          `commit compact volume ${volumeId}: volume id ${volumeId} is not found during commit compact: volume not found`,
        );
      }
      const isReadOnly = v.isReadOnly();
      try {
        // Appends in flight finish first, and later ones wait for the swapped files.
        const size = await v.afterAppends(() => commit(v, () => ctx.store.reloadVolume(v)));
        return VacuumVolumeCommitResponse.create({ isReadOnly, volumeSize: BigInt(size) });
      } catch (err) {
        throw failed(status.UNKNOWN, `commit compact volume ${volumeId}: ${(err as Error).message}`);
      }
    }),

    vacuumVolumeCleanup: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const { volumeId } = call.request;
      const v = ctx.store.findVolume(volumeId);
      if (!v) {
        throw failed(
          status.NOT_FOUND,
          `cleanup volume ${volumeId}: volume id ${volumeId} is not found during cleaning up: volume not found`,
        );
      }
      cleanup(v);
      return {};
    }),
  };
}
