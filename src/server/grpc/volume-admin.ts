// Volume life-cycle RPCs (the volume half of weed's volume_grpc_admin.go): allocate, mount,
// unmount, delete, mark read-only or writable, status, delete a collection, file status.

import { statSync } from "node:fs";
import { Metadata, status } from "@grpc/grpc-js";
import { VolumeMarkReadonlyRequest } from "../../pb/master.js";
import {
  ReadVolumeFileStatusResponse,
  VolumeConfigureResponse,
  type VolumeServerServer,
  VolumeStatusResponse,
} from "../../pb/volume_server.js";
import { ttlToUint32 } from "../../storage/needle/ttl.js";
import { parseReplicaPlacement, replicaPlacementByte } from "../../storage/volume/replica-placement.js";
import type { Volume } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";

export function checkMaintenance(ctx: ServerContext): void {
  if (ctx.stateFile.maintenance) {
    throw failed(status.UNKNOWN, `volume server ${ctx.options.id} is in maintenance mode`);
  }
}

function volumeOrFail(ctx: ServerContext, id: number, message: string): Volume {
  const v = ctx.store.findVolume(id);
  if (!v) throw failed(status.UNKNOWN, message);
  return v;
}

/** Tells the master a volume turned read-only or writable, as weed does before and after. */
function notifyMasterReadonly(ctx: ServerContext, v: Volume, isReadonly: boolean): Promise<void> {
  const master = ctx.state.currentMaster || ctx.options.masters[0];
  if (!master) return Promise.resolve();
  const located = ctx.store.locate(v.id);
  const request = VolumeMarkReadonlyRequest.create({
    ip: ctx.options.ip,
    port: ctx.options.port,
    volumeId: v.id,
    collection: v.collection,
    replicaPlacement: replicaPlacementByte(v.superBlock.replicaPlacement),
    ttl: ttlToUint32(v.superBlock.ttl),
    diskType: located?.location.diskType ?? "",
    isReadonly,
  });
  return new Promise((resolve, reject) => {
    ctx.peers
      .master(master)
      .volumeMarkReadonly(request, new Metadata(), { deadline: Date.now() + 30_000 }, (err) =>
        err
          ? reject(
              failed(
                status.UNKNOWN,
                `grpc VolumeMarkReadonly with master ${master}: set volume ${v.id} to read only on master: ${err.message}`,
              ),
            )
          : resolve(),
      );
  });
}

/**
 * Read-only in three steps, as weed: the master stops assigning to it first, then the volume
 * refuses writes, then the master is told again in case a heartbeat slipped in between.
 */
export async function makeVolumeReadonly(
  ctx: ServerContext,
  v: Volume,
  canDelete: boolean,
  persist: boolean,
): Promise<void> {
  await notifyMasterReadonly(ctx, v, true);
  v.setReadOnly(true, persist, canDelete);
  await notifyMasterReadonly(ctx, v, true);
}

export function volumeAdminService(ctx: ServerContext): Partial<VolumeServerServer> {
  return {
    allocateVolume: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const r = call.request;
      ctx.store.addVolume(r.volumeId, r.collection, r.replication, r.ttl, {
        diskType: r.diskType === "hdd" ? "" : r.diskType.toLowerCase(),
        preallocate: Number(r.preallocate),
      });
      return {};
    }),

    volumeMount: unary(async (call) => {
      checkAdminAuth(ctx, call);
      ctx.store.mountVolume(call.request.volumeId);
      return {};
    }),

    volumeUnmount: unary(async (call) => {
      checkAdminAuth(ctx, call);
      ctx.store.unmountVolume(call.request.volumeId);
      return {};
    }),

    volumeDelete: unary(async (call) => {
      checkAdminAuth(ctx, call);
      const { volumeId, onlyEmpty } = call.request;
      const v = ctx.store.findVolume(volumeId);
      if (!v) throw failed(status.NOT_FOUND, `volume ${volumeId} not found on disk`);
      if (onlyEmpty && v.fileCount - v.deletedCount > 0)
        throw failed(status.FAILED_PRECONDITION, "volume not empty");
      ctx.store.deleteVolume(volumeId);
      return {};
    }),

    volumeMarkReadonly: unary(async (call) => {
      checkAdminAuth(ctx, call);
      const { volumeId, persist, canDelete } = call.request;
      const v = volumeOrFail(ctx, volumeId, `volume ${volumeId} not found`);
      await makeVolumeReadonly(ctx, v, canDelete, persist);
      return {};
    }),

    volumeMarkWritable: unary(async (call) => {
      checkAdminAuth(ctx, call);
      const v = volumeOrFail(ctx, call.request.volumeId, `volume ${call.request.volumeId} not found`);
      checkMaintenance(ctx);
      v.setReadOnly(false, true);
      await notifyMasterReadonly(ctx, v, false);
      return {};
    }),

    volumeConfigure: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const { volumeId, replication } = call.request;
      const describe = `volume_id:${volumeId} replication:"${replication}"`;
      try {
        parseReplicaPlacement(replication);
      } catch (err) {
        return VolumeConfigureResponse.create({
          error: `volume configure replication ${describe}: ${(err as Error).message}`,
        });
      }
      ctx.store.unmountVolume(volumeId);
      try {
        ctx.store.configureVolume(volumeId, replication);
      } catch (err) {
        let error = `volume configure ${describe}: ${(err as Error).message}`;
        try {
          ctx.store.mountVolume(volumeId);
        } catch (mountErr) {
          error += `. Also failed to restore mount: ${(mountErr as Error).message}`;
        }
        return VolumeConfigureResponse.create({ error });
      }
      try {
        ctx.store.mountVolume(volumeId);
      } catch (err) {
        return VolumeConfigureResponse.create({
          error: `volume configure mount ${describe}: ${(err as Error).message}`,
        });
      }
      return VolumeConfigureResponse.create({});
    }),

    volumeStatus: unary(async (call) => {
      const v = volumeOrFail(ctx, call.request.volumeId, `not found volume id ${call.request.volumeId}`);
      return VolumeStatusResponse.create({
        isReadOnly: v.isReadOnly(),
        volumeSize: BigInt(v.datSize),
        fileCount: BigInt(v.fileCount),
        fileDeletedCount: BigInt(v.deletedCount),
      });
    }),

    deleteCollection: unary(async (call) => {
      checkAdminAuth(ctx, call);
      ctx.store.deleteCollection(call.request.collection);
      return {};
    }),

    volumeConsolidateIndex: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      volumeOrFail(ctx, call.request.volumeId, `volume ${call.request.volumeId} not found`);
      return {};
    }),

    readVolumeFileStatus: unary(async (call) => {
      const v = volumeOrFail(ctx, call.request.volumeId, `not found volume id ${call.request.volumeId}`);
      const located = ctx.store.locate(v.id);
      const mtime = Math.floor(statSync(v.fileName(".dat")).mtimeMs / 1000);
      return ReadVolumeFileStatusResponse.create({
        volumeId: v.id,
        idxFileTimestampSeconds: BigInt(mtime),
        idxFileSize: BigInt(v.indexSize),
        datFileTimestampSeconds: BigInt(mtime),
        datFileSize: BigInt(v.datSize),
        fileCount: BigInt(v.fileCount),
        compactionRevision: v.superBlock.compactionRevision,
        collection: v.collection,
        diskType: located?.location.diskType ?? "",
        version: v.version,
        volumeInfo: {
          files: [],
          version: v.version,
          replication: v.replication,
          bytesOffset: v.width,
          datFileSize: BigInt(v.info.datFileSize),
          expireAtSec: BigInt(v.info.expireAtSec),
          readOnly: v.info.readOnly,
          ecShardConfig: undefined,
          readOnlyCanDelete: v.info.readOnlyCanDelete,
        },
      });
    }),
  };
}
