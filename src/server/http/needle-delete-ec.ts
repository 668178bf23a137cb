// DELETE of a needle in an EC volume held here (weed's DeleteEcShardNeedle): the needle is read to
// check its cookie, the delete is journalled here and sent (VolumeEcBlobDelete) to every other
// server the master lists for the volume's shards, so whichever serves the needle next sees it gone.

import type { IncomingMessage, ServerResponse } from "node:http";
import { unaryCall } from "../../cluster/clients.js";
import { LookupEcVolumeRequest } from "../../pb/master.js";
import { VolumeEcBlobDeleteRequest } from "../../pb/volume_server.js";
import { EcNeedleDeleted, EcNeedleNotFound } from "../../storage/erasure-coding/ec-read.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import type { EcVolume } from "../../storage/erasure-coding/ec-volume.js";
import { keyToBigInt } from "../../storage/needle/needle-id.js";
import type { ServerContext } from "../context.js";
import { readNeedleFromEc } from "../grpc/erasure-coding-read.js";
import { writeJson, writeJsonError } from "./respond.js";

/** Sends the delete to the other holders of the volume's shards; best effort. */
async function deleteOnPeers(ctx: ServerContext, v: EcVolume, id: bigint): Promise<void> {
  const master = ctx.state.currentMaster || ctx.options.masters[0];
  if (!master) return;
  const client = ctx.peers.master(master);
  const answer = await unaryCall(
    client.lookupEcVolume.bind(client),
    LookupEcVolumeRequest.create({ volumeId: v.id }),
    {
      deadline: Date.now() + 10_000,
    },
  ).catch(() => undefined);
  const self = `${ctx.options.ip}:${ctx.options.port}`;
  const targets = new Set<string>();
  for (const shard of answer?.shardIdLocations ?? []) {
    for (const l of shard.locations) {
      if (l.url === self) continue;
      targets.add(l.grpcPort ? `${l.url}.${l.grpcPort}` : l.url);
    }
  }
  const request = VolumeEcBlobDeleteRequest.create({
    volumeId: v.id,
    collection: v.collection,
    fileKey: id,
    version: v.version,
  });
  await Promise.all(
    [...targets].map((address) => {
      const peer = ctx.peers.volumeServer(address);
      return unaryCall(peer.volumeEcBlobDelete.bind(peer), request, { deadline: Date.now() + 10_000 }).catch(
        () => undefined,
      );
    }),
  );
}

/** Serves the delete when the volume is an EC volume here; false when it is not. */
export async function serveEcDelete(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  volumeId: number,
  key: { keyHi: number; keyLo: number; cookie: number },
): Promise<boolean> {
  const v = ecStoreOf(ctx.store).find(volumeId);
  if (!v) return false;
  const id = keyToBigInt(key.keyHi, key.keyLo);
  try {
    const stored = await readNeedleFromEc(ctx, v, id);
    if (key.cookie !== 0 && stored.cookie !== key.cookie) {
      throw new Error(`unexpected cookie ${key.cookie.toString(16)}`);
    }
    v.deleteNeedle(id);
    await deleteOnPeers(ctx, v, id);
    writeJson(req, res, 202, { size: stored.size });
  } catch (err) {
    if (err instanceof EcNeedleDeleted) writeJson(req, res, 404, { size: 0 });
    else if (err instanceof EcNeedleNotFound) writeJsonError(req, res, 500, `Deletion Failed: not found`);
    else writeJsonError(req, res, 500, `Deletion Failed: ${(err as Error).message}`);
  }
  return true;
}
