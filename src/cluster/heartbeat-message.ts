// Builds the heartbeat messages from the store: identity, capacities per disk type, the data
// directories' uuids and tags, the full volume list, and the short messages of volume deltas.

import type { VolumeServerOptions } from "../config/volume-server-options.js";
import {
  Heartbeat,
  type VolumeEcShardInformationMessage,
  VolumeInformationMessage,
  VolumeShortInformationMessage,
} from "../pb/master.js";
import type { VolumeServerState } from "../pb/volume_server.js";
import { backendName } from "../storage/backend/backends.js";
import { ttlToUint32 } from "../storage/needle/ttl.js";
import type { Store, VolumeEvent } from "../storage/store/store.js";
import { replicaPlacementByte } from "../storage/volume/replica-placement.js";
import type { Volume } from "../storage/volume/volume.js";
import { diskUsage } from "../util/disk.js";
import { ecFullHeartbeat, hasNoEcShards } from "./heartbeat-ec.js";

function identity(options: VolumeServerOptions) {
  return {
    ip: options.ip,
    port: options.port,
    dataCenter: options.dataCenter,
    rack: options.rack,
  };
}

export function volumeInformation(
  volume: Volume,
  diskType: string,
  diskId: number,
): VolumeInformationMessage {
  const remote = volume.info.files[0];
  return VolumeInformationMessage.create({
    id: volume.id,
    size: BigInt(volume.datSize),
    collection: volume.collection,
    fileCount: BigInt(volume.fileCount),
    deleteCount: BigInt(volume.deletedCount),
    deletedByteCount: BigInt(volume.deletedBytes),
    readOnly: volume.isReadOnly(),
    readOnlyCanDelete: volume.noWriteCanDelete,
    replicaPlacement: replicaPlacementByte(volume.superBlock.replicaPlacement),
    version: volume.version,
    ttl: ttlToUint32(volume.superBlock.ttl),
    compactRevision: volume.superBlock.compactionRevision,
    modifiedAtSecond: BigInt(volume.lastModifiedSeconds),
    remoteStorageName: remote ? backendName(remote.backendType, remote.backendId) : "",
    remoteStorageKey: remote?.key ?? "",
    diskType,
    diskId,
  });
}

export function volumeShortInformation(e: VolumeEvent): VolumeShortInformationMessage {
  return VolumeShortInformationMessage.create({
    id: e.volume.id,
    collection: e.volume.collection,
    replicaPlacement: replicaPlacementByte(e.volume.superBlock.replicaPlacement),
    version: e.volume.version,
    ttl: ttlToUint32(e.volume.superBlock.ttl),
    diskType: e.location.diskType,
    diskId: e.diskId,
    readOnly: e.volume.isReadOnly(),
    readOnlyCanDelete: e.volume.noWriteCanDelete,
  });
}

export function fullHeartbeat(
  options: VolumeServerOptions,
  store: Store,
  state: VolumeServerState,
): Heartbeat {
  const maxVolumeCounts: Record<string, number> = {};
  const diskTotalBytes: Record<string, bigint> = {};
  const diskFreeBytes: Record<string, bigint> = {};
  const volumes: VolumeInformationMessage[] = [];
  let maxFileKey = 0n;
  store.locations.forEach((location, diskId) => {
    const type = location.diskType;
    const effectiveMax = location.isDiskSpaceLow ? location.volumeCount() : location.maxVolumeCount;
    maxVolumeCounts[type] = (maxVolumeCounts[type] ?? 0) + Math.max(0, effectiveMax);
    try {
      const usage = diskUsage(location.directory);
      diskTotalBytes[type] = (diskTotalBytes[type] ?? 0n) + BigInt(usage.all);
      diskFreeBytes[type] = (diskFreeBytes[type] ?? 0n) + BigInt(usage.free);
    } catch {
      // An unreadable directory reports no capacity.
    }
    for (const volume of location.volumes.values()) {
      volumes.push(volumeInformation(volume, type, diskId));
      if (volume.maxFileKey > maxFileKey) maxFileKey = volume.maxFileKey;
    }
  });
  return Heartbeat.create({
    ...identity(options),
    grpcPort: options.grpcPort,
    publicUrl: options.publicUrl,
    id: options.id,
    maxVolumeCounts,
    diskTotalBytes,
    diskFreeBytes,
    maxFileKey,
    volumes,
    hasNoVolumes: volumes.length === 0,
    hasNoEcShards: hasNoEcShards(store),
    locationUuids: store.locations.map((l) => l.uuid),
    state,
    diskTags: store.locations.map((l, diskId) => ({
      diskId,
      tags: l.tags,
      type: l.diskType,
      maxVolumeCount: BigInt(l.maxVolumeCount),
    })),
  });
}

export function ecHeartbeat(store: Store): Heartbeat {
  return ecFullHeartbeat(store);
}

export function deltaHeartbeat(
  options: VolumeServerOptions,
  delta: {
    newVolumes?: VolumeShortInformationMessage[];
    deletedVolumes?: VolumeShortInformationMessage[];
    newEcShards?: VolumeEcShardInformationMessage[];
    deletedEcShards?: VolumeEcShardInformationMessage[];
  },
): Heartbeat {
  return Heartbeat.create({ ...identity(options), ...delta });
}

/** The empty beat sent on shutdown: the master drops this server's volumes at once. */
export function goodbyeHeartbeat(options: VolumeServerOptions): Heartbeat {
  return Heartbeat.create({ ...identity(options), publicUrl: options.publicUrl, hasNoVolumes: true });
}

/** Sent when the state flags change (maintenance mode), so the master knows at once. */
export function stateHeartbeat(options: VolumeServerOptions, state: VolumeServerState): Heartbeat {
  return Heartbeat.create({ ...identity(options), state });
}
