// Builds the heartbeat messages from the server's state: identity, capacities per disk type, the
// data directories' uuids and tags, and the volume and EC shard lists.

import type { VolumeServerOptions } from "../cli/options.js";
import { Heartbeat } from "../pb/master.js";
import type { VolumeServerState } from "../pb/volume_server.js";
import { diskUsage } from "../util/disk.js";

export function identity(options: VolumeServerOptions): Partial<Heartbeat> {
  return {
    ip: options.ip,
    port: options.port,
    grpcPort: options.grpcPort,
    publicUrl: options.publicUrl,
    id: options.id,
    dataCenter: options.dataCenter,
    rack: options.rack,
  };
}

export function fullHeartbeat(
  options: VolumeServerOptions,
  locationUuids: string[],
  state: VolumeServerState,
): Heartbeat {
  const maxVolumeCounts: Record<string, number> = {};
  const diskTotalBytes: Record<string, bigint> = {};
  const diskFreeBytes: Record<string, bigint> = {};
  options.folders.forEach((folder) => {
    const type = folder.diskType;
    maxVolumeCounts[type] = (maxVolumeCounts[type] ?? 0) + Math.max(0, folder.maxVolumeCount);
    try {
      const usage = diskUsage(folder.directory);
      diskTotalBytes[type] = (diskTotalBytes[type] ?? 0n) + BigInt(usage.all);
      diskFreeBytes[type] = (diskFreeBytes[type] ?? 0n) + BigInt(usage.free);
    } catch {
      // An unreadable directory reports no capacity.
    }
  });
  return Heartbeat.create({
    ...identity(options),
    maxVolumeCounts,
    diskTotalBytes,
    diskFreeBytes,
    volumes: [],
    hasNoVolumes: true,
    hasNoEcShards: true,
    locationUuids,
    state,
    diskTags: options.folders.map((folder, diskId) => ({
      diskId,
      tags: folder.tags,
      type: folder.diskType,
      maxVolumeCount: BigInt(folder.maxVolumeCount),
    })),
  });
}

export function ecHeartbeat(): Heartbeat {
  return Heartbeat.create({ ecShards: [], hasNoEcShards: true });
}

export function goodbyeHeartbeat(options: VolumeServerOptions): Heartbeat {
  return Heartbeat.create({
    ip: options.ip,
    port: options.port,
    publicUrl: options.publicUrl,
    dataCenter: options.dataCenter,
    rack: options.rack,
    hasNoVolumes: true,
  });
}

/** Sent when the state flags change (maintenance mode), so the master knows at once. */
export function stateHeartbeat(options: VolumeServerOptions, state: VolumeServerState): Heartbeat {
  return Heartbeat.create({
    ip: options.ip,
    port: options.port,
    dataCenter: options.dataCenter,
    rack: options.rack,
    state,
  });
}
