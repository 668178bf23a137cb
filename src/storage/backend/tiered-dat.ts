// The remote .dat of a volume loaded while tiered (weed's loadRemoteFile): the backend its .vif
// names must be one the master announced.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadVolumeInfo, type RemoteFile } from "../volume/volume-info.js";
import { backendName, storageBackendSettings } from "./backends.js";
import { RemoteDat } from "./remote-dat.js";

export function openTieredDat(file: RemoteFile): RemoteDat {
  const name = backendName(file.backendType, file.backendId);
  const settings = storageBackendSettings(name);
  if (!settings) throw new Error(`backend storage ${name} not found`);
  return new RemoteDat(settings, file.key, file.fileSize);
}

/** The .vif at this path names a remote .dat: the volume is tiered. */
export function namesRemoteDat(vifPath: string): boolean {
  return (loadVolumeInfo(vifPath)?.files.length ?? 0) > 0;
}

/** True when a directory holds a volume whose .vif names a remote .dat and no local .dat exists. */
export function hasTieredVolumes(directories: string[]): boolean {
  for (const dir of directories) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const present = new Set(names);
    for (const name of names) {
      if (!name.endsWith(".vif") || present.has(`${name.slice(0, -4)}.dat`)) continue;
      if (namesRemoteDat(join(dir, name))) return true;
    }
  }
  return false;
}
