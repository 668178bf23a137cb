// Needle-level RPCs (weed's volume_grpc_read_write.go, volume_grpc_batch_delete.go and the needle
// status RPC): raw blobs and metadata for replication and repair, batch deletes with per-file
// HTTP-style status codes.

import { status } from "@grpc/grpc-js";
import {
  BatchDeleteResponse,
  DeleteResult,
  ReadNeedleBlobResponse,
  ReadNeedleMetaResponse,
  VolumeNeedleStatusResponse,
  type VolumeServerServer,
} from "../../pb/volume_server.js";
import { maskedCrc } from "../../storage/needle/crc.js";
import { parseNeedleIdCookie, parseNeedlePath, parseVolumeId } from "../../storage/needle/file-id.js";
import { FLAG_CHUNK_MANIFEST, FLAG_HAS_TTL, type Needle } from "../../storage/needle/needle.js";
import { keyFromBigInt } from "../../storage/needle/needle-id.js";
import { formatTtl } from "../../storage/needle/ttl.js";
import { VolumeError } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { ecNeedleStatus } from "./erasure-coding-read.js";
import { checkMaintenance } from "./volume-admin.js";

function volumeOrFail(ctx: ServerContext, id: number) {
  const v = ctx.store.findVolume(id);
  if (!v) throw failed(status.UNKNOWN, `not found volume id ${id}`);
  return v;
}

/** The stored record's id and size (a blob written under another key keeps its own). */
export function needleStatusResponse(n: Needle): VolumeNeedleStatusResponse {
  return VolumeNeedleStatusResponse.create({
    needleId: (BigInt(n.keyHi) << 32n) | BigInt(n.keyLo),
    cookie: n.cookie,
    size: n.size,
    lastModified: BigInt(n.lastModified),
    crc: maskedCrc(n.checksum),
    ttl: n.flags & FLAG_HAS_TTL ? formatTtl(n.ttl) : "",
  });
}

export function needleDataService(ctx: ServerContext): Partial<VolumeServerServer> {
  return {
    readNeedleBlob: unary(async (call) => {
      const { volumeId, offset, size } = call.request;
      const v = volumeOrFail(ctx, volumeId);
      try {
        return ReadNeedleBlobResponse.create({ needleBlob: v.readBlob(Number(offset), size) });
      } catch (err) {
        throw failed(
          status.UNKNOWN,
          `read needle blob offset ${offset} size ${size}: ${(err as Error).message}`,
        );
      }
    }),

    readNeedleMeta: unary(async (call) => {
      const { volumeId, offset, size } = call.request;
      const v = ctx.store.findVolume(volumeId);
      if (!v) {
        throw failed(
          status.UNKNOWN,
          `not found volume id ${volumeId} and read needle metadata at ec shards is not supported`,
        );
      }
      const { needle } = v.readMeta(Number(offset), Math.max(0, size));
      return ReadNeedleMetaResponse.create({
        cookie: needle.cookie,
        lastModified: BigInt(needle.lastModified),
        crc: maskedCrc(needle.checksum),
        ttl: needle.flags & FLAG_HAS_TTL ? formatTtl(needle.ttl) : "",
        appendAtNs: needle.appendAtNs,
      });
    }),

    writeNeedleBlob: unary(async (call) => {
      checkMaintenance(ctx);
      const { volumeId, needleId, size, needleBlob } = call.request;
      const v = volumeOrFail(ctx, volumeId);
      const key = keyFromBigInt(needleId);
      try {
        await v.writeBlobQueued(key.hi, key.lo, size, Buffer.from(needleBlob));
      } catch (err) {
        throw failed(status.UNKNOWN, `write blob needle ${needleId} size ${size}: ${(err as Error).message}`);
      }
      return {};
    }),

    volumeNeedleStatus: unary(async (call) => {
      checkAdminAuth(ctx, call);
      const { volumeId, needleId } = call.request;
      const v = ctx.store.findVolume(volumeId);
      if (!v) return ecNeedleStatus(ctx, volumeId, needleId);
      const key = keyFromBigInt(needleId);
      try {
        return needleStatusResponse(v.read(key.hi, key.lo));
      } catch (err) {
        if (err instanceof VolumeError && err.kind === "not-found") {
          throw failed(status.NOT_FOUND, `needle not found ${needleId}`);
        }
        if (err instanceof VolumeError && err.kind === "deleted")
          throw failed(status.UNKNOWN, "already deleted");
        throw err;
      }
    }),

    batchDelete: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const results: DeleteResult[] = [];
      const result = (fileId: string, code: number, error = "", size = 0) =>
        results.push(DeleteResult.create({ fileId, status: code, error, size }));
      for (const fileId of call.request.fileIds) {
        const comma = fileId.indexOf(",");
        let volumeId: number;
        let key: { keyHi: number; keyLo: number; cookie: number };
        try {
          if (comma <= 0) throw new Error("wrong fid format");
          volumeId = parseVolumeId(fileId.slice(0, comma));
          const rest = fileId.slice(comma + 1);
          key = call.request.skipCookieCheck ? parseNeedleIdCookie(rest) : parseNeedlePath(rest);
        } catch (err) {
          result(fileId, 400, (err as Error).message);
          continue;
        }
        const v = ctx.store.findVolume(volumeId);
        if (!v) {
          result(fileId, 404, `volume ${volumeId} not found`);
          continue;
        }
        let isManifest = false;
        if (!call.request.skipCookieCheck) {
          try {
            const n = v.read(key.keyHi, key.keyLo);
            if (n.cookie !== key.cookie) {
              result(fileId, 400, "File Random Cookie does not match.");
              continue;
            }
            isManifest = (n.flags & FLAG_CHUNK_MANIFEST) !== 0;
          } catch (err) {
            result(fileId, 404, (err as Error).message);
            continue;
          }
        }
        if (isManifest) {
          result(fileId, 406, "ChunkManifest: not allowed in batch delete mode.");
          continue;
        }
        try {
          const size = await v.deleteQueued(key.keyHi, key.keyLo, key.cookie);
          if (size === 0) result(fileId, 304);
          else result(fileId, 202, "", size);
        } catch (err) {
          result(fileId, 500, (err as Error).message);
        }
      }
      return BatchDeleteResponse.create({ results });
    }),
  };
}
