// Moving and repairing EC shards (weed's volume_grpc_erasure_coding.go): VolumeEcShardsCopy pulls
// shard files, the .ecx, the .ecj and the .vif of an EC volume from a peer with CopyFile;
// VolumeEcShardsRebuild is erasure-coding-rebuild.ts.

import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { status } from "@grpc/grpc-js";
import {
  CopyFileRequest,
  VolumeEcShardsCopyResponse,
  VolumeEcShardsRebuildResponse,
  type VolumeServerClient,
  type VolumeServerServer,
} from "../../pb/volume_server.js";
import { validateReplicaTarget } from "../../security/endpoints.js";
import { SIDECAR_EXT } from "../../storage/erasure-coding/bitrot.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import { ecBaseName } from "../../storage/erasure-coding/ec-volume.js";
import { MAX_SHARD_COUNT, shardExt } from "../../storage/erasure-coding/layout.js";
import type { DiskLocation } from "../../storage/store/disk-location.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { rebuildEcShards } from "./erasure-coding-rebuild.js";
import { goRpcErrorText } from "./go-errors.js";
import { receive } from "./streaming.js";
import { checkMaintenance } from "./volume-admin.js";

const EVERYTHING = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Streams an EC volume's file from the peer into `target`. Optional files are staged beside the
 * target and left out when the source lacks them. Returns false when the source had no such file.
 */
async function pullEcFile(
  client: VolumeServerClient,
  volumeId: number,
  collection: string,
  ext: string,
  target: string,
  optional: boolean,
): Promise<boolean> {
  const writePath = optional ? `${target}.copying` : target;
  // Opened before the call starts: a stream left without a reader while awaiting would emit its
  // error to no one and bring the process down.
  const file = await open(writePath, "w");
  const stream = client.copyFile(
    CopyFileRequest.create({
      volumeId,
      collection,
      ext,
      isEcVolume: true,
      compactionRevision: 0xffffffff,
      stopOffset: EVERYTHING,
      ignoreSourceFileNotFound: optional,
    }),
  );
  let seen = false;
  try {
    for await (const frame of receive(stream)) {
      if (frame.modifiedTsNs !== 0n || frame.fileContent.length > 0) seen = true;
      if (frame.fileContent.length > 0) await file.write(frame.fileContent);
    }
  } catch (err) {
    await file.close();
    await rm(writePath, { force: true });
    throw new Error(`receiving ${target}: ${goRpcErrorText(err)}`);
  }
  await file.close();
  if (optional) {
    if (seen) await rename(writePath, target);
    else await rm(writePath, { force: true });
  }
  return seen;
}

/** The disk new shards of this volume go to: one already holding the volume, else the emptiest. */
function targetLocation(ctx: ServerContext, collection: string, id: number): DiskLocation | undefined {
  const holds = (l: DiskLocation) =>
    existsSync(`${ecBaseName(l.idxDirectory, collection, id)}.ecx`) ||
    Array.from({ length: MAX_SHARD_COUNT }, (_, i) => shardExt(i)).some((ext) =>
      existsSync(ecBaseName(l.directory, collection, id) + ext),
    );
  const usable = ctx.store.locations.filter((l) => !l.isDiskSpaceLow);
  return usable.find(holds) ?? usable.sort((a, b) => b.freeSlots() - a.freeSlots())[0];
}

/** Journal ids from the source merged into ours, without duplicates. */
function mergeJournal(path: string, incoming: Buffer): void {
  const ours = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
  const seen = new Set<string>();
  const out: Buffer[] = [];
  for (const image of [ours, incoming]) {
    for (let at = 0; at + 8 <= image.length; at += 8) {
      const id = image.subarray(at, at + 8);
      const key = id.toString("hex");
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(id);
    }
  }
  writeFileSync(path, Buffer.concat(out), { mode: 0o644 });
}

export function ecCopyService(
  ctx: ServerContext,
): Pick<VolumeServerServer, "volumeEcShardsCopy" | "volumeEcShardsRebuild"> {
  return {
    volumeEcShardsCopy: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const req = call.request;
      const { volumeId, collection, sourceDataNode } = req;
      if (!ctx.options.allowUntrustedRemoteEndpoints) {
        await validateReplicaTarget(sourceDataNode).catch((err: Error) => {
          throw new Error(`invalid source data node ${sourceDataNode}: ${err.message}`);
        });
      }
      let location: DiskLocation | undefined;
      if (req.diskId > 0) {
        location = ctx.store.locations[req.diskId];
        if (!location) {
          throw new Error(`invalid disk_id ${req.diskId}: only have ${ctx.store.locations.length} disks`);
        }
      } else {
        location = targetLocation(ctx, collection, volumeId);
        if (!location) throw failed(status.RESOURCE_EXHAUSTED, "no space left");
      }
      const dataBase = ecBaseName(location.directory, collection, volumeId);
      const indexBase = ecBaseName(location.idxDirectory, collection, volumeId);
      try {
        const client = ctx.peers.volumeServer(sourceDataNode);
        for (const shard of req.shardIds) {
          await pullEcFile(client, volumeId, collection, shardExt(shard), dataBase + shardExt(shard), false);
        }
        if (req.copyEcxFile) {
          await pullEcFile(client, volumeId, collection, ".ecx", `${indexBase}.ecx`, false);
          if (statSync(`${indexBase}.ecx`).size === 0) {
            rmSync(`${indexBase}.ecx`, { force: true });
            throw new Error(`VolumeEcShardsCopy volume ${volumeId}: source .ecx is 0 bytes`);
          }
        }
        if (req.copyEcjFile) {
          const staged = `${indexBase}.ecj.incoming`;
          if (await pullEcFile(client, volumeId, collection, ".ecj", staged, true)) {
            const incoming = readFileSync(staged);
            const mounted = ecStoreOf(ctx.store)
              .findAll(volumeId)
              .find((l) => l.volume.indexBase === indexBase);
            if (mounted) mounted.volume.mergeJournal(incoming);
            else mergeJournal(`${indexBase}.ecj`, incoming);
            rmSync(staged, { force: true });
          }
        }
        if (req.copyVifFile) await pullEcFile(client, volumeId, collection, ".vif", `${dataBase}.vif`, true);
        if (req.copyEcsumFile) {
          await pullEcFile(client, volumeId, collection, SIDECAR_EXT, dataBase + SIDECAR_EXT, true);
        }
      } catch (err) {
        throw new Error(`VolumeEcShardsCopy volume ${volumeId}: ${(err as Error).message}`);
      }
      return VolumeEcShardsCopyResponse.create();
    }),

    volumeEcShardsRebuild: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const rebuiltShardIds = await rebuildEcShards(ctx, call.request);
      return VolumeEcShardsRebuildResponse.create({ rebuiltShardIds });
    }),
  };
}
