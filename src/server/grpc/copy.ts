// Moving volume files between servers (weed's volume_grpc_copy.go): CopyFile serves a file of a
// volume or EC volume, ReceiveFile stores one pushed to us, VolumeCopy pulls a whole volume from a
// peer and mounts it in place of any replica here.

import { existsSync } from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { type ServerReadableStream, type ServerWritableStream, status } from "@grpc/grpc-js";
import {
  type CopyFileRequest,
  CopyFileResponse,
  type ReceiveFileRequest,
  ReceiveFileResponse,
  type VolumeServerServer,
} from "../../pb/volume_server.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import { toDiskType } from "../../storage/store/disk-location.js";
import { volumeBaseName } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { failed } from "./call.js";
import { goFsError } from "./go-errors.js";
import { clientStream, send, serverStream } from "./streaming.js";
import { checkMaintenance } from "./volume-admin.js";
import { volumeCopyHandler } from "./volume-copy.js";

/** weed streams files in frames of this many bytes. */
export const COPY_CHUNK = 2 * 1024 * 1024;
const ALL_REVISIONS = 0xffffffff;

/** An extension names a file beside the volume: a dot and letters or digits, nothing that climbs out. */
export function checkVolumeFileExtension(ext: string): void {
  if (!/^\.[0-9A-Za-z]+$/.test(ext)) throw new Error(`invalid file extension ${JSON.stringify(ext)}`);
}

export function checkVolumeCollection(collection: string): void {
  if (collection === "." || collection === ".." || /[/\\]/.test(collection)) {
    throw new Error(`invalid collection ${JSON.stringify(collection)}`);
  }
}

/** The file CopyFile serves, or undefined for a missing EC file the caller may do without. */
function sourcePath(ctx: ServerContext, req: CopyFileRequest): string | undefined {
  if (!req.isEcVolume) {
    const v = ctx.store.findVolume(req.volumeId);
    if (!v) throw new Error(`not found volume id ${req.volumeId}`);
    if (
      v.superBlock.compactionRevision !== req.compactionRevision &&
      req.compactionRevision !== ALL_REVISIONS
    ) {
      throw new Error(`volume ${req.volumeId} is compacted`);
    }
    return v.fileName(req.ext);
  }
  const name = volumeBaseName(req.collection, req.volumeId) + req.ext;
  let found: string | undefined;
  for (const location of ctx.store.locations) {
    for (const dir of [location.directory, location.idxDirectory]) {
      if (existsSync(join(dir, name))) found = join(dir, name);
    }
  }
  if (found === undefined && !req.ignoreSourceFileNotFound) {
    throw new Error(`CopyFile not found ec volume id ${req.volumeId}`);
  }
  return found;
}

async function copyFile(ctx: ServerContext, call: ServerWritableStream<CopyFileRequest, CopyFileResponse>) {
  const req = call.request;
  checkVolumeFileExtension(req.ext);
  checkVolumeCollection(req.collection);
  const path = sourcePath(ctx, req);
  if (path === undefined) return;
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === "ENOENT" &&
      (req.ignoreSourceFileNotFound || req.stopOffset === 0n)
    ) {
      return;
    }
    throw goFsError(err, "open", path);
  }
  try {
    // The modification time rides on the first frame only; an empty copy still sends it, so the
    // caller knows the file exists.
    let modifiedTsNs = (await file.stat({ bigint: true })).mtimeNs;
    let remaining = Number(
      req.stopOffset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : req.stopOffset,
    );
    let position = 0;
    while (remaining > 0) {
      const chunk = Buffer.allocUnsafe(Math.min(COPY_CHUNK, remaining));
      const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      await send(call, CopyFileResponse.create({ fileContent: chunk.subarray(0, bytesRead), modifiedTsNs }));
      modifiedTsNs = 0n;
      position += bytesRead;
      remaining -= bytesRead;
    }
    if (modifiedTsNs !== 0n) await send(call, CopyFileResponse.create({ modifiedTsNs }));
  } finally {
    await file.close();
  }
}

/** Where a pushed file goes; a ReceiveRefused is the error ReceiveFile reports in its response. */
function receiveTarget(ctx: ServerContext, info: NonNullable<ReceiveFileRequest["info"]>): string {
  const { store } = ctx;
  const base = volumeBaseName(info.collection, info.volumeId);
  if (info.isEcVolume) {
    // Writing over a mounted shard would change the bytes under its open readers.
    const mounted = ecStoreOf(store)
      .findAll(info.volumeId)
      .map((l) => l.diskId);
    if (mounted.length > 0) {
      throw new ReceiveRefused(
        `ec volume ${info.volumeId} is mounted on disk_ids:[${mounted.join(" ")}]; unmount before ReceiveFile`,
      );
    }
    let location = info.diskId > 0 ? store.locations[info.diskId] : undefined;
    if (info.diskId > 0 && !location) {
      throw new ReceiveRefused(`invalid disk_id ${info.diskId}: only have ${store.locations.length} disks`);
    }
    // Unset disk id: the disk that holds this EC volume's index, else any hdd, else any disk.
    location ??=
      store.locations.find(
        (l) =>
          existsSync(join(l.idxDirectory, `${base}.ecx`)) || existsSync(join(l.directory, `${base}.ecx`)),
      ) ??
      store.locations.find((l) => l.diskType === "") ??
      store.locations[0];
    if (!location) throw new ReceiveRefused("no storage location available");
    return join(location.directory, base + info.ext);
  }
  const v = store.findVolume(info.volumeId);
  if (v) return v.fileName(info.ext);
  if (info.diskType === "") throw new ReceiveRefused(`volume ${info.volumeId} not found`);
  // A volume that does not exist yet (an EC volume decoded onto this server): staged beside where
  // it will live as <base><ext>.copying, a name the loader never picks up.
  const wanted = toDiskType(info.diskType);
  let best: (typeof store.locations)[number] | undefined;
  for (const l of store.locations) {
    if (l.diskType !== wanted || l.isDiskSpaceLow || l.freeSlots() <= 0) continue;
    const holdsShard = Array.from({ length: 32 }, (_, i) => `${base}.ec${String(i).padStart(2, "0")}`).some(
      (n) => existsSync(join(l.directory, n)),
    );
    if (holdsShard) continue;
    if (!best || l.freeSlots() > best.freeSlots()) best = l;
  }
  if (!best) {
    throw new ReceiveRefused(
      `no ${info.diskType} disk location with a free slot for volume ${info.volumeId}`,
    );
  }
  return join(best.directory, `${base}${info.ext}.copying`);
}

class ReceiveRefused extends Error {}

async function receiveFile(
  ctx: ServerContext,
  call: ServerReadableStream<ReceiveFileRequest, ReceiveFileResponse>,
): Promise<ReceiveFileResponse> {
  checkMaintenance(ctx);
  let file: FileHandle | undefined;
  let path = "";
  let written = 0;
  // Refusals answer in the response (the call itself succeeds), as weed's SendAndClose does.
  const refuse = async (error: string) =>
    ReceiveFileResponse.create({ error, bytesWritten: BigInt(written) });
  try {
    for await (const req of call as AsyncIterable<ReceiveFileRequest>) {
      if (req.info) {
        try {
          checkVolumeFileExtension(req.info.ext);
          checkVolumeCollection(req.info.collection);
          path = receiveTarget(ctx, req.info);
        } catch (err) {
          return await refuse((err as Error).message);
        }
        try {
          await file?.close();
          file = await open(path, "w");
        } catch (err) {
          return await refuse(`failed to create file: ${goFsError(err, "open", path).message}`);
        }
      } else if (req.fileContent) {
        if (!file) return await refuse("file info must be sent first");
        try {
          await file.write(req.fileContent);
        } catch (err) {
          await file.close();
          file = undefined;
          await removeQuietly(path);
          return await refuse(`failed to write file: ${goFsError(err, "write", path).message}`);
        }
        written += req.fileContent.length;
      } else {
        return await refuse("unknown message type");
      }
    }
  } catch (err) {
    if (file) {
      await file.close().catch(() => undefined);
      file = undefined;
      await removeQuietly(path);
    }
    throw failed(status.UNKNOWN, `failed to receive stream: ${(err as Error).message}`);
  } finally {
    if (file) {
      await file.sync().catch(() => undefined);
      await file.close().catch(() => undefined);
    }
  }
  return ReceiveFileResponse.create({ bytesWritten: BigInt(written) });
}

async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

export function copyService(
  ctx: ServerContext,
): Pick<VolumeServerServer, "copyFile" | "receiveFile" | "volumeCopy"> {
  return {
    copyFile: serverStream((call) => copyFile(ctx, call)),
    receiveFile: clientStream((call) => receiveFile(ctx, call)),
    volumeCopy: serverStream((call) => volumeCopyHandler(ctx, call)),
  };
}
