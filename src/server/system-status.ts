// Disk and memory figures reported by /status, VolumeServerStatus and the heartbeat.

import { freemem, totalmem } from "node:os";
import type { DataFolder } from "../config/volume-server-options.js";
import { DiskStatus, MemStatus } from "../pb/volume_server.js";
import { diskUsage } from "../util/disk.js";

export function diskStatus(folder: Pick<DataFolder, "directory" | "diskType">): DiskStatus {
  const status = DiskStatus.create({ dir: folder.directory, diskType: folder.diskType });
  try {
    const u = diskUsage(folder.directory);
    Object.assign(status, {
      all: BigInt(u.all),
      used: BigInt(u.used),
      free: BigInt(u.free),
      percentFree: u.percentFree,
      percentUsed: u.percentUsed,
    });
  } catch (err) {
    status.error = (err as Error).message;
  }
  return status;
}

export function diskStatuses(folders: readonly Pick<DataFolder, "directory" | "diskType">[]): DiskStatus[] {
  return folders.map(diskStatus);
}

/** weed's MemStatus: "goroutines" becomes the number of live handles and requests of this process. */
export function memoryStatus(): MemStatus {
  const usage = process.memoryUsage();
  const all = totalmem();
  const free = freemem();
  return MemStatus.create({
    goroutines: Math.max(1, process.getActiveResourcesInfo().length),
    all: BigInt(all),
    used: BigInt(all - free),
    free: BigInt(free),
    self: BigInt(usage.rss),
    heap: BigInt(usage.heapUsed),
    stack: 0n,
  });
}

/** The JSON weed's /status prints for a DiskStatus (Go's protobuf struct tags, zero values left out). */
export function diskStatusJson(s: DiskStatus): Record<string, unknown> {
  const out: Record<string, unknown> = { dir: s.dir };
  if (s.all) out["all"] = Number(s.all);
  if (s.used) out["used"] = Number(s.used);
  if (s.free) out["free"] = Number(s.free);
  if (s.percentFree) out["percent_free"] = s.percentFree;
  if (s.percentUsed) out["percent_used"] = s.percentUsed;
  if (s.diskType) out["disk_type"] = s.diskType;
  if (s.error) out["error"] = s.error;
  return out;
}
