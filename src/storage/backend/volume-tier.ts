// Moving a volume's .dat to a tier backend and back (weed's volume_grpc_tier_upload/download and
// volume_tier.go). Up: the .dat is uploaded, the .vif names the remote file (saved before reads
// switch over), and the local .dat is removed unless kept. Down: the object is downloaded to the
// .dat, the .vif forgets it (saved before the object is deleted, so a crash leaks the object at
// worst and never leaves a .vif naming a deleted object), reads switch back to the local file.

import { openSync, rmSync, statSync, utimesSync } from "node:fs";
import type { Volume } from "../volume/volume.js";
import type { RemoteFile } from "../volume/volume-info.js";
import { backendName, backendNameToTypeId, findStorageBackend, storageBackendNames } from "./backends.js";
import { RemoteDat } from "./remote-dat.js";
import type { Progress } from "./s3-backend.js";

/** Go's %v of a string slice. */
const goList = (names: string[]) => `[${names.join(" ")}]`;

/** The remote .dat a volume's .vif names, if it is tiered. */
export function remoteDatFile(v: Volume): RemoteFile | undefined {
  return v.info.files[0];
}

export async function moveDatToRemote(
  v: Volume,
  destination: string,
  options: { keepLocalDatFile: boolean; concurrency: number; progress: Progress },
): Promise<void> {
  if (v.remoteDat) return; // already tiered: weed answers success without doing anything
  const datPath = v.fileName(".dat");
  const modifiedTime = Math.floor(statSync(datPath).mtimeMs / 1000);
  const backend = await findStorageBackend(destination);
  if (!backend) {
    throw new Error(`destination ${destination} not found, supported: ${goList(storageBackendNames())}`);
  }
  const { type, id } = backendNameToTypeId(destination);
  if (v.info.files.some((f) => f.backendType === type && f.backendId === id)) {
    throw new Error(`destination ${destination} already exists`);
  }
  let copied: { key: string; size: number };
  try {
    copied = await backend.copyFile(datPath, options.progress, options.concurrency);
  } catch (err) {
    throw new Error(`backend ${destination} copy file ${datPath}: ${(err as Error).message}`);
  }
  const remote: RemoteFile = {
    backendType: type,
    backendId: id,
    key: copied.key,
    offset: 0,
    fileSize: copied.size,
    modifiedTime,
    extension: ".dat",
  };
  // Checked and attached in the volume's append order: an append still running would otherwise
  // land in the local file after the check, and be lost with it.
  await v.afterAppends(async () => {
    if (v.datSize !== copied.size) {
      // A write landed during the upload: the copy is stale; drop it rather than lose the write.
      await backend.deleteFile(copied.key).catch(() => undefined);
      throw new Error(
        `volume ${v.id} failed to attach remote file: volume ${v.id} data file changed during the copy`,
      );
    }
    v.info.files.push(remote);
    try {
      v.saveInfo();
    } catch (err) {
      v.info.files.pop();
      await backend.deleteFile(copied.key).catch(() => undefined);
      throw new Error(
        `volume ${v.id} failed to attach remote file: save remote file info: ${(err as Error).message}`,
      );
    }
    v.attachRemoteDat(new RemoteDat(backend, copied.key, copied.size));
  });
  if (!options.keepLocalDatFile) rmSync(datPath, { force: true });
}

export async function moveDatFromRemote(
  v: Volume,
  options: { keepRemoteDatFile: boolean; concurrency: number; progress: Progress },
): Promise<void> {
  const remote = remoteDatFile(v);
  if (!remote || remote.backendType === "" || remote.key === "" || !v.remoteDat) {
    throw new Error(`volume ${v.id} is already on local disk`);
  }
  const name = backendName(remote.backendType, remote.backendId);
  const backend = await findStorageBackend(name);
  if (!backend)
    throw new Error(`remote storage ${name} not found from supported: ${goList(storageBackendNames())}`);
  const datPath = v.fileName(".dat");
  try {
    await backend.downloadFile(datPath, remote.key, options.progress, options.concurrency);
  } catch (err) {
    throw new Error(`backend ${name} copy file ${datPath}: ${(err as Error).message}`);
  }
  if (remote.modifiedTime > 0) {
    try {
      utimesSync(datPath, remote.modifiedTime, remote.modifiedTime);
    } catch {
      // Only cosmetic: weed logs and goes on too.
    }
  }
  v.info.files.shift();
  try {
    v.saveInfo();
  } catch (err) {
    v.info.files.unshift(remote);
    throw new Error(`volume ${v.id} failed to save remote file info: ${(err as Error).message}`);
  }
  v.detachRemoteDat(openSync(datPath, "r+"));
  if (options.keepRemoteDatFile) return;
  try {
    await backend.deleteFile(remote.key);
  } catch (err) {
    throw new Error(`volume ${v.id} failed to delete remote file ${remote.key}: ${(err as Error).message}`);
  }
}
