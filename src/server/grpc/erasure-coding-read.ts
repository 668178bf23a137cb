// Needles of EC volumes read through the server: shards not mounted here are fetched from the
// servers the master lists for them (VolumeEcShardRead), and VolumeNeedleStatus for a volume held
// only as EC shards.

import { status } from "@grpc/grpc-js";
import { unaryCall } from "../../cluster/clients.js";
import { LookupEcVolumeRequest, type LookupEcVolumeResponse } from "../../pb/master.js";
import { VolumeEcShardReadRequest, type VolumeNeedleStatusResponse } from "../../pb/volume_server.js";
import {
  EcNeedleDeleted,
  EcNeedleNotFound,
  readEcNeedle,
  type ShardFetcher,
} from "../../storage/erasure-coding/ec-read.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import type { EcVolume } from "../../storage/erasure-coding/ec-volume.js";
import type { Needle } from "../../storage/needle/needle.js";
import type { ServerContext } from "../context.js";
import { failed } from "./call.js";
import { needleStatusResponse } from "./needle-data.js";
import { receive } from "./streaming.js";

/** Shard locations from the master, cached briefly: a read touches several shards. */
const LOOKUP_TTL_MS = 10_000;
const lookups = new WeakMap<
  ServerContext,
  Map<number, { at: number; answer: Promise<LookupEcVolumeResponse> }>
>();

function lookup(ctx: ServerContext, volumeId: number): Promise<LookupEcVolumeResponse> {
  let cache = lookups.get(ctx);
  if (!cache) {
    cache = new Map();
    lookups.set(ctx, cache);
  }
  const hit = cache.get(volumeId);
  if (hit && Date.now() - hit.at < LOOKUP_TTL_MS) return hit.answer;
  const master = ctx.state.currentMaster || ctx.options.masters[0];
  if (!master) return Promise.reject(new Error("no master"));
  const client = ctx.peers.master(master);
  const answer = unaryCall(client.lookupEcVolume.bind(client), LookupEcVolumeRequest.create({ volumeId }), {
    deadline: Date.now() + 10_000,
  });
  cache.set(volumeId, { at: Date.now(), answer });
  answer.catch(() => cache.delete(volumeId));
  return answer;
}

/** Fetches shard bytes from the other servers holding the shard. */
export function peerShardFetcher(ctx: ServerContext, v: EcVolume): ShardFetcher {
  const self = `${ctx.options.ip}:${ctx.options.port}`;
  return async (shard, offset, size) => {
    const answer = await lookup(ctx, v.id);
    const holders = answer.shardIdLocations.find((l) => l.shardId === shard)?.locations ?? [];
    for (const location of holders) {
      if (location.url === self) continue;
      // "host:port.grpcPort" names the peer's gRPC port (default: port + 10000).
      const grpcAddress = location.grpcPort ? `${location.url}.${location.grpcPort}` : location.url;
      try {
        const stream = ctx.peers.volumeServer(grpcAddress).volumeEcShardRead(
          VolumeEcShardReadRequest.create({
            volumeId: v.id,
            shardId: shard,
            offset: BigInt(offset),
            size: BigInt(size),
            encodeTsNs: v.encodeTsNs,
          }),
          { deadline: Date.now() + 30_000 },
        );
        const parts: Buffer[] = [];
        for await (const frame of receive(stream)) {
          if (frame.isDeleted) break;
          parts.push(frame.data);
        }
        const bytes = Buffer.concat(parts);
        if (bytes.length === size) return bytes;
      } catch {
        // Try the next holder, then reconstruction.
      }
    }
    return undefined;
  };
}

/** The needle of an EC volume held here, shards fetched or rebuilt as needed. */
export function readNeedleFromEc(ctx: ServerContext, v: EcVolume, needleId: bigint): Promise<Needle> {
  return readEcNeedle(v, needleId, peerShardFetcher(ctx, v));
}

/** VolumeNeedleStatus for a volume this server holds only as EC shards. */
export async function ecNeedleStatus(
  ctx: ServerContext,
  volumeId: number,
  needleId: bigint,
): Promise<VolumeNeedleStatusResponse> {
  const v = ecStoreOf(ctx.store).find(volumeId);
  if (!v) throw failed(status.UNKNOWN, `volume not found ${volumeId}`);
  try {
    return needleStatusResponse(await readNeedleFromEc(ctx, v, needleId));
  } catch (err) {
    if (err instanceof EcNeedleNotFound || err instanceof EcNeedleDeleted) {
      throw failed(status.NOT_FOUND, `needle not found ${needleId}`);
    }
    throw err;
  }
}
