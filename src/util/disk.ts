// Disk space of the file system holding a directory, as weed reports it: free is what an unprivileged
// user may still use (f_bavail), used is the rest.

import { statfsSync } from "node:fs";

export interface DiskUsage {
  all: number;
  used: number;
  free: number;
  percentFree: number;
  percentUsed: number;
}

export function diskUsage(dir: string): DiskUsage {
  const s = statfsSync(dir);
  const all = s.blocks * s.bsize;
  const free = s.bavail * s.bsize;
  const used = all - free;
  return {
    all,
    used,
    free,
    percentFree: all > 0 ? (free / all) * 100 : 0,
    percentUsed: all > 0 ? (used / all) * 100 : 0,
  };
}
