// VolumeCopy: pulls a volume's .dat, .idx and .vif from a peer with CopyFile into a staging
// directory, checks sizes and record counts against the source, then swaps the copy in for any
// replica here and mounts it (src/storage/store/volume-copy.ts). A copy whose caller went away,
// or that does not check out, leaves the previous replica as it was.

import { closeSync, openSync, readFileSync, statSync, utimesSync } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { type ServerWritableStream, status } from "@grpc/grpc-js";
import { unaryCall } from "../../cluster/clients.js";
import {
  CopyFileRequest,
  type ReadVolumeFileStatusResponse,
  type VolumeCopyRequest,
  VolumeCopyResponse,
  type VolumeServerClient,
  type VolumeStatusResponse,
} from "../../pb/volume_server.js";
import { validateReplicaTarget } from "../../security/endpoints.js";
import { MemoryNeedleMap } from "../../storage/index/needle-map.js";
import { toDiskType } from "../../storage/store/disk-location.js";
import { discardStaged, installCopy, type StagedCopy, stageCopy } from "../../storage/store/volume-copy.js";
import type { OffsetWidth, Version } from "../../storage/types.js";
import { readAt } from "../../storage/volume/files.js";
import { lastAppendAtNsOfFiles } from "../../storage/volume/scan.js";
import { Throttle } from "../../util/throttle.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed } from "./call.js";
import { goRpcErrorText } from "./go-errors.js";
import { CallCancelled, receive, send } from "./streaming.js";
import { checkMaintenance } from "./volume-admin.js";

const REPORT_EVERY = 128 * 1024 * 1024;

/** Volumes being copied, per server: one copy of a volume at a time. */
const copying = new WeakMap<ServerContext, Set<number>>();

interface Pull {
  client: VolumeServerClient;
  volumeId: number;
  collection: string;
  compactionRevision: number;
  throttle: Throttle;
  call: ServerWritableStream<VolumeCopyRequest, VolumeCopyResponse>;
}

/**
 * Streams one file of the source volume into `target`. An optional file (ignoreMissing) is written
 * beside the target and renamed over it only once complete, so a source without it never
 * truncates what is here. Returns the source file's modification time (0: the source has none).
 */
async function pullFile(
  p: Pull,
  ext: string,
  stopOffset: bigint,
  target: string,
  ignoreMissing: boolean,
  onProgress?: (bytes: number) => Promise<void>,
): Promise<bigint> {
  const writePath = ignoreMissing ? `${target}.copying` : target;
  // The file is opened before the call starts: a stream left without a reader while awaiting
  // would emit its error to no one and bring the process down.
  let file: FileHandle | undefined = await open(writePath, "w");
  const stream = p.client.copyFile(
    CopyFileRequest.create({
      volumeId: p.volumeId,
      ext,
      compactionRevision: p.compactionRevision,
      stopOffset,
      collection: p.collection,
      isEcVolume: false,
      ignoreSourceFileNotFound: ignoreMissing,
    }),
  );
  let modifiedTsNs = 0n;
  let bytes = 0;
  try {
    for await (const frame of receive(stream)) {
      if (frame.modifiedTsNs !== 0n) modifiedTsNs = frame.modifiedTsNs;
      if (frame.fileContent.length > 0) {
        await file.write(frame.fileContent);
        bytes += frame.fileContent.length;
        await onProgress?.(bytes);
        await p.throttle.account(frame.fileContent.length);
      }
      if (p.call.cancelled) throw new CallCancelled();
    }
    await file.close();
    file = undefined;
  } catch (err) {
    await file?.close().catch(() => undefined);
    await rm(writePath, { force: true });
    if (err instanceof CallCancelled) throw err;
    throw new Error(`failed to copy ${target}: receiving ${target}: ${goRpcErrorText(err)}`);
  }
  if (modifiedTsNs === 0n) {
    // The source has no such file.
    await rm(writePath, { force: true });
    return 0n;
  }
  if (writePath !== target) await rename(writePath, target);
  const seconds = Number(modifiedTsNs) / 1e9;
  utimesSync(target, seconds, seconds);
  return modifiedTsNs;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** The staged files must be exactly as long as the source said. */
function checkCopiedSizes(info: ReadVolumeFileStatusResponse, remoteDat: boolean, staged: StagedCopy): void {
  const idx = `${staged.stagedIndexBase}.idx`;
  const idxSize = sizeOf(idx);
  if (idxSize === undefined) {
    if (info.idxFileSize !== 0n) throw new Error(`stat idx file ${idx} failed: no such file or directory`);
  } else if (BigInt(idxSize) !== info.idxFileSize) {
    throw new Error(
      `idx file ${idx} size [${idxSize}] is not same as origin file size [${info.idxFileSize}]`,
    );
  }
  if (remoteDat) return;
  const datSize = sizeOf(`${staged.stagedDataBase}.dat`);
  if (datSize === undefined) throw new Error("get dat file info failed, no such file or directory");
  if (BigInt(datSize) !== info.datFileSize) {
    throw new Error(`the dat file size [${datSize}] is not same as origin file size [${info.datFileSize}]`);
  }
}

function checkCopyCounts(origin: VolumeStatusResponse, fileCount: number): void {
  if (origin.fileCount !== BigInt(fileCount)) {
    throw new Error(
      `target file count [${fileCount}] is not same as origin file count [${origin.fileCount}]`,
    );
  }
}

/** Record count of the staged index, to refuse a bad copy before the replica here is dropped. */
function stagedFileCount(staged: StagedCopy, width: OffsetWidth, version: Version): number {
  let image: Buffer;
  try {
    image = readFileSync(`${staged.stagedIndexBase}.idx`);
  } catch {
    image = Buffer.alloc(0);
  }
  const map = MemoryNeedleMap.fromIndex(image, width, version);
  try {
    return map.stats.fileCount;
  } finally {
    map.close();
  }
}

function stagedLastAppendAtNs(staged: StagedCopy, width: OffsetWidth, version: number): bigint {
  const idxPath = `${staged.stagedIndexBase}.idx`;
  const idxSize = sizeOf(idxPath) ?? 0;
  if (idxSize === 0) return 0n;
  const idxFd = openSync(idxPath, "r");
  const datFd = openSync(`${staged.stagedDataBase}.dat`, "r");
  try {
    return lastAppendAtNsOfFiles(
      (position, length) => readAt(idxFd, length, position),
      idxSize,
      (position, length) => readAt(datFd, length, position),
      width,
      version,
    );
  } catch {
    return 0n;
  } finally {
    closeSync(idxFd);
    closeSync(datFd);
  }
}

async function copyVolume(
  ctx: ServerContext,
  call: ServerWritableStream<VolumeCopyRequest, VolumeCopyResponse>,
) {
  const req = call.request;
  const volumeId = req.volumeId;
  const client = ctx.peers.volumeServer(req.sourceDataNode);
  const statusOf = () => unaryCall(client.volumeStatus.bind(client), { volumeId });
  const before = await statusOf().catch(() => undefined);
  let info: ReadVolumeFileStatusResponse;
  try {
    info = await unaryCall(client.readVolumeFileStatus.bind(client), { volumeId });
  } catch (err) {
    throw new Error(`read volume file status failed, ${goRpcErrorText(err)}`);
  }
  const remoteDat = (info.volumeInfo?.files.length ?? 0) > 0;
  const diskType = toDiskType(req.diskType || info.diskType);
  const staged = stageCopy(
    ctx.store,
    volumeId,
    info.collection,
    diskType,
    Number(remoteDat ? info.idxFileSize : info.datFileSize),
  );
  const bytesPerSecond =
    req.ioBytePerSecond > 0n ? Number(req.ioBytePerSecond) : ctx.options.maintenanceMBps * 1024 * 1024;
  const pull: Pull = {
    client,
    volumeId,
    collection: req.collection,
    compactionRevision: info.compactionRevision,
    throttle: new Throttle(bytesPerSecond),
    call,
  };
  try {
    if (!remoteDat) {
      let next = REPORT_EVERY;
      await pullFile(pull, ".dat", info.datFileSize, `${staged.stagedDataBase}.dat`, true, async (bytes) => {
        if (bytes > next) {
          await send(call, VolumeCopyResponse.create({ processedBytes: BigInt(bytes) }));
          next = bytes + REPORT_EVERY;
        }
      });
    }
    await pullFile(pull, ".idx", info.idxFileSize, `${staged.stagedIndexBase}.idx`, false);
    await pullFile(pull, ".vif", BigInt(1024 * 1024), `${staged.stagedDataBase}.vif`, true);
    let after: VolumeStatusResponse;
    try {
      after = await statusOf();
    } catch (err) {
      throw new Error(`read source volume ${volumeId} status after copy failed: ${goRpcErrorText(err)}`);
    }

    checkCopiedSizes(info, remoteDat, staged);
    const width = (
      info.volumeInfo?.bytesOffset === 5 ? 5 : info.volumeInfo?.bytesOffset === 4 ? 4 : ctx.store.defaultWidth
    ) as OffsetWidth;
    const version = (info.version || 3) as Version;
    let lastAppendAtNs = info.datFileTimestampSeconds * 1_000_000_000n;
    if (!remoteDat) {
      const found = stagedLastAppendAtNs(staged, width, version);
      if (found > 0n) lastAppendAtNs = found;
    }
    // A source written to during the copy has no single count to check against.
    const stable = before !== undefined && before.fileCount === after.fileCount;
    if (stable) checkCopyCounts(after, stagedFileCount(staged, width, version));
    if (call.cancelled) throw new CallCancelled();

    installCopy(ctx.store, staged, req.sourceDataNode, (v) => {
      if (stable) checkCopyCounts(after, v.fileCount);
    });
    await send(call, VolumeCopyResponse.create({ lastAppendAtNs })).catch(() => undefined);
  } catch (err) {
    discardStaged(staged);
    throw err;
  }
}

export async function volumeCopyHandler(
  ctx: ServerContext,
  call: ServerWritableStream<VolumeCopyRequest, VolumeCopyResponse>,
): Promise<void> {
  checkAdminAuth(ctx, call);
  checkMaintenance(ctx);
  const { volumeId, sourceDataNode } = call.request;
  if (!ctx.options.allowUntrustedRemoteEndpoints) {
    await validateReplicaTarget(sourceDataNode).catch((err: Error) => {
      throw new Error(`invalid source data node ${sourceDataNode}: ${err.message}`);
    });
  }
  let inFlight = copying.get(ctx);
  if (!inFlight) {
    inFlight = new Set();
    copying.set(ctx, inFlight);
  }
  if (inFlight.has(volumeId)) throw failed(status.UNAVAILABLE, `volume ${volumeId} is already being copied`);
  inFlight.add(volumeId);
  try {
    await copyVolume(ctx, call);
  } finally {
    inFlight.delete(volumeId);
  }
}
