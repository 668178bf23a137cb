// VolumeEcShardsToVolume (weed's volume_grpc_erasure_coding.go): decodes a mounted EC volume back
// into a normal volume from its data shards on this server, and mounts it.

import { rmSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { VolumeEcShardsToVolumeResponse, type VolumeServerServer } from "../../pb/volume_server.js";
import { loadSidecar, SIDECAR_EXT, verifyDataShards } from "../../storage/erasure-coding/bitrot.js";
import {
  decodedDatSize,
  liveNeedleCount,
  NO_LIVE_ENTRIES,
  shardVersion,
  writeDatFromShards,
  writeIdxFromEcIndex,
} from "../../storage/erasure-coding/decoder.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { checkMaintenance } from "./volume-admin.js";

const decoding = new WeakMap<ServerContext, Set<number>>();

export function ecDecodeService(ctx: ServerContext): Pick<VolumeServerServer, "volumeEcShardsToVolume"> {
  const ec = ecStoreOf(ctx.store);
  return {
    volumeEcShardsToVolume: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const { volumeId, collection } = call.request;
      let inFlight = decoding.get(ctx);
      if (!inFlight) {
        inFlight = new Set();
        decoding.set(ctx, inFlight);
      }
      if (inFlight.has(volumeId)) {
        throw failed(status.UNAVAILABLE, `ec volume ${volumeId} is already being decoded`);
      }
      const v = ec.find(volumeId);
      if (!v) throw new Error(`ec volume ${volumeId} not found`);
      if (v.collection !== collection) {
        throw new Error(`existing collection:${v.collection} unexpected input: ${collection}`);
      }
      inFlight.add(volumeId);
      try {
        const files = ec.shardFiles(v.collection, volumeId);
        const dataShardPaths: string[] = [];
        for (let i = 0; i < v.geometry.dataShards; i++) {
          const path = files.get(i);
          if (!path) throw new Error(`ec volume ${volumeId} missing shard ${i}`);
          dataShardPaths.push(path);
        }
        if (liveNeedleCount(v) === 0) {
          throw failed(status.FAILED_PRECONDITION, `ec volume ${volumeId} ${NO_LIVE_ENTRIES}`);
        }
        // Shards that fail their recorded checksums are not decoded into a volume.
        for (const base of new Set([v.dataBase, v.indexBase])) {
          const sidecar = base + SIDECAR_EXT;
          const protection = loadSidecar(sidecar);
          if (protection) {
            verifyDataShards(protection, v.geometry, volumeId, sidecar, dataShardPaths);
            break;
          }
        }
        const datSize = decodedDatSize(v, shardVersion(dataShardPaths[0]!));
        // A normal replica still mounted here is replaced by the decoded files.
        ctx.store.unmountVolume(volumeId);
        await writeDatFromShards(v, dataShardPaths, datSize, v.dataBase);
        writeIdxFromEcIndex(v, v.indexBase);
        for (const base of new Set([v.dataBase, v.indexBase])) rmSync(base + SIDECAR_EXT, { force: true });
        ctx.store.mountVolume(volumeId);
      } finally {
        inFlight.delete(volumeId);
      }
      return VolumeEcShardsToVolumeResponse.create();
    }),
  };
}
