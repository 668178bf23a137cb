// VolumeEcShardsGenerate (weed's volume_grpc_erasure_coding.go): turns a volume into .ec00 …, a .vif
// recording the shard geometry and an .ecx (see below for its order). The volume itself stays; the
// shell deletes it once the shards are spread.

import { renameSync, rmSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { VolumeEcShardsGenerateResponse, type VolumeServerServer } from "../../pb/volume_server.js";
import { writeSidecar } from "../../storage/erasure-coding/bitrot.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import { encodeInWorker } from "../../storage/erasure-coding/encoder.js";
import { PENDING_ECX_EXT, removeEcArtifacts } from "../../storage/erasure-coding/interrupted-encode.js";
import { DATA_SHARDS, PARITY_SHARDS, validShardCounts } from "../../storage/erasure-coding/layout.js";
import { writeSortedIndex } from "../../storage/erasure-coding/sorted-index.js";
import { emptyVolumeInfo, loadVolumeInfo, saveVolumeInfo } from "../../storage/volume/volume-info.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { checkMaintenance } from "./volume-admin.js";

export function ecGenerateService(ctx: ServerContext): Pick<VolumeServerServer, "volumeEcShardsGenerate"> {
  return {
    volumeEcShardsGenerate: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const { volumeId, collection } = call.request;
      const v = ctx.store.findVolume(volumeId);
      if (!v) throw failed(status.UNKNOWN, `volume ${volumeId} not found`);
      if (v.collection !== collection) {
        throw failed(status.UNKNOWN, `existing collection:${v.collection} unexpected input: ${collection}`);
      }
      const dataBase = v.fileName(".dat").slice(0, -4);
      const indexBase = v.fileName(".idx").slice(0, -4);
      // A .vif already naming a geometry (a re-encode) keeps it.
      const previous = loadVolumeInfo(`${dataBase}.vif`)?.ecShardConfig;
      let dataShards = DATA_SHARDS;
      let parityShards = PARITY_SHARDS;
      if (previous && validShardCounts(previous.dataShards, previous.parityShards)) {
        dataShards = previous.dataShards;
        parityShards = previous.parityShards;
      }
      ecStoreOf(ctx.store).unloadVolume(volumeId);
      removeEcArtifacts(dataBase, indexBase);
      // The .ecx is taken first (it must not list needles the shards lack) but put in place last:
      // shards are only mounted by an .ecx, so an encode cut short leaves nothing mountable.
      const pendingEcx = indexBase + PENDING_ECX_EXT;
      let done = false;
      try {
        v.sync();
        writeSortedIndex(indexBase, v.width, pendingEcx);
        const encoded = await encodeInWorker({ dataBase, dataShards, parityShards });
        writeSidecar(dataBase, { dataShards, parityShards, blockSize: encoded.blockSize }, encoded.checksums);
        const info = emptyVolumeInfo();
        info.version = v.version;
        // The .ecx has this volume's offset width. weed leaves it out of an EC .vif (its width is
        // fixed at build time); ours is only recorded when it is not the store's default, which a
        // volume created before the server learned its master's width can differ from.
        if (v.width !== ctx.store.defaultWidth) info.bytesOffset = v.width;
        info.expireAtSec = v.expireAtSec();
        info.datFileSize = encoded.datSize;
        info.ecShardConfig = {
          dataShards,
          parityShards,
          encodeTsNs: BigInt(Date.now()) * 1_000_000n,
          blockSize: encoded.blockSize,
        };
        saveVolumeInfo(`${dataBase}.vif`, info);
        renameSync(pendingEcx, `${indexBase}.ecx`);
        done = true;
      } finally {
        if (!done) {
          rmSync(pendingEcx, { force: true });
          removeEcArtifacts(dataBase, indexBase);
        }
      }
      return VolumeEcShardsGenerateResponse.create();
    }),
  };
}
