// The EC part of the heartbeat: one VolumeEcShardInformationMessage per EC volume and disk (shard
// bits, per-shard sizes in shard order, counts, encode run), and the one-shard deltas sent when a
// shard is mounted or unmounted.

import { Heartbeat, VolumeEcShardInformationMessage } from "../pb/master.js";
import type { EcShardEvent } from "../storage/erasure-coding/ec-store.js";
import { ecStoreOf } from "../storage/erasure-coding/ec-store.js";
import type { EcVolume } from "../storage/erasure-coding/ec-volume.js";
import type { Store } from "../storage/store/store.js";

function message(
  v: EcVolume,
  diskType: string,
  diskId: number,
  shards: { shard: number; size: number }[],
  counts: boolean,
): VolumeEcShardInformationMessage {
  const sorted = [...shards].sort((a, b) => a.shard - b.shard);
  const { fileCount, deleteCount } = counts ? v.fileAndDeleteCount() : { fileCount: 0n, deleteCount: 0n };
  return VolumeEcShardInformationMessage.create({
    id: v.id,
    collection: v.collection,
    ecIndexBits: sorted.reduce((bits, s) => (bits | (1 << s.shard)) >>> 0, 0),
    shardSizes: sorted.map((s) => BigInt(s.size)),
    diskType,
    expireAtSec: BigInt(v.expireAtSec),
    diskId,
    fileCount,
    deleteCount,
    encodeTsNs: v.encodeTsNs,
  });
}

/** Every mounted EC volume of the store, one message per volume and disk. */
export function ecShardMessages(store: Store): VolumeEcShardInformationMessage[] {
  return [...ecStoreOf(store).volumes()].map(({ volume, location, diskId }) =>
    message(
      volume,
      location.diskType,
      diskId,
      volume.shardIds().map((shard) => ({ shard, size: volume.shards.get(shard)!.size })),
      true,
    ),
  );
}

export function ecFullHeartbeat(store: Store): Heartbeat {
  const ecShards = ecShardMessages(store);
  return Heartbeat.create({ ecShards, hasNoEcShards: ecShards.length === 0 });
}

/** The delta for one shard mounted (with its size and the volume's counts) or unmounted (size 0). */
export function ecShardDelta(e: EcShardEvent, mounted: boolean): VolumeEcShardInformationMessage {
  return message(e.volume, e.location.diskType, e.diskId, [{ shard: e.shard, size: e.size }], mounted);
}

/** True when the store holds no EC shards (the full heartbeat says so to the master). */
export function hasNoEcShards(store: Store): boolean {
  return ecStoreOf(store).volumes().next().done === true;
}
