// Following a volume from elsewhere (weed's volume_grpc_copy_incremental.go and
// volume_grpc_read_all.go): its sync status, the bytes appended since a time or since a backup's
// last index entry, and every live record of some volumes in append order.

import { type ServerWritableStream, status } from "@grpc/grpc-js";
import {
  type ReadAllNeedlesRequest,
  ReadAllNeedlesResponse,
  type VolumeIncrementalCopyRequest,
  VolumeIncrementalCopyResponse,
  type VolumeServerServer,
  VolumeSyncStatusResponse,
} from "../../pb/volume_server.js";
import type { NeedleValue } from "../../storage/index/needle-mapper.js";
import { maskedCrc } from "../../storage/needle/crc.js";
import { isCompressed } from "../../storage/needle/needle.js";
import { indexEntrySize } from "../../storage/types.js";
import {
  datSizeCoveredByIndex,
  firstOffsetAfter,
  IncrementalCopyDiverged,
  records,
  resumeByLastEntry,
} from "../../storage/volume/scan.js";
import type { Volume } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { COPY_CHUNK } from "./copy.js";
import { send, serverStream } from "./streaming.js";

function volumeOrFail(ctx: ServerContext, id: number): Volume {
  const v = ctx.store.findVolume(id);
  if (!v) throw new Error(`not found volume id ${id}`);
  return v;
}

function diverged(): never {
  throw failed(status.FAILED_PRECONDITION, new IncrementalCopyDiverged().message);
}

/** Sends `[start, stop)` of the .dat or the .idx in 2 MiB frames. */
async function sendRange(
  call: ServerWritableStream<VolumeIncrementalCopyRequest, VolumeIncrementalCopyResponse>,
  v: Volume,
  start: number,
  stop: number,
  what: "fileContent" | "idxContent",
): Promise<void> {
  for (let at = start; at < stop; at += COPY_CHUNK) {
    const length = Math.min(COPY_CHUNK, stop - at);
    const bytes = what === "fileContent" ? v.readData(at, 0, length) : v.readIndex(at, length);
    await send(
      call,
      VolumeIncrementalCopyResponse.create(
        what === "fileContent" ? { fileContent: bytes } : { idxContent: bytes },
      ),
    );
  }
}

async function incrementalCopy(
  ctx: ServerContext,
  call: ServerWritableStream<VolumeIncrementalCopyRequest, VolumeIncrementalCopyResponse>,
): Promise<void> {
  const req = call.request;
  const v = volumeOrFail(ctx, req.volumeId);
  // Bounds taken before anything is read, so the streams carry one consistent prefix.
  const revision = v.superBlock.compactionRevision;
  let stopOffset = v.datSize;
  const stopIndex = v.indexSize;
  const entryCount = Number(req.entryCount);
  // An old client resuming by time has no verified prefix: index rows only go with a whole file.
  const streamIndex = entryCount > 0 || req.sinceNs === 0n;
  if (streamIndex) {
    const covered = datSizeCoveredByIndex(v, stopIndex);
    if (covered > 0 && covered < stopOffset) stopOffset = covered;
  }

  let startOffset: number | undefined;
  if (entryCount > 0) {
    let resumed: { offset: number; upToDate: boolean };
    try {
      resumed = resumeByLastEntry(
        v,
        {
          entryCount,
          keyHi: Number(req.lastNeedleKey >> 32n),
          keyLo: Number(req.lastNeedleKey & 0xffffffffn),
          cookie: req.lastNeedleCookie,
          size: req.lastNeedleSize | 0,
          hash: req.entriesHash,
        },
        stopIndex,
      );
    } catch (err) {
      if (err instanceof IncrementalCopyDiverged) diverged();
      throw new Error(`fail to locate by entry ${entryCount}: ${(err as Error).message}`);
    }
    if (resumed.upToDate) return;
    startOffset = resumed.offset === 0 ? undefined : resumed.offset;
  } else {
    startOffset = firstOffsetAfter(v, req.sinceNs);
    if (startOffset === undefined) return;
  }

  const indexFrom = entryCount * indexEntrySize(v.width);
  const sendIndex = streamIndex && stopIndex > indexFrom;
  if (startOffset !== undefined) await sendRange(call, v, startOffset, stopOffset, "fileContent");
  if (sendIndex) await sendRange(call, v, indexFrom, stopIndex, "idxContent");
  if (v.superBlock.compactionRevision !== revision) diverged();
}

async function readAllNeedles(
  ctx: ServerContext,
  call: ServerWritableStream<ReadAllNeedlesRequest, ReadAllNeedlesResponse>,
): Promise<void> {
  checkAdminAuth(ctx, call);
  const current: NeedleValue = { offset: 0, size: 0 };
  for (const volumeId of call.request.volumeIds) {
    const v = volumeOrFail(ctx, volumeId);
    for (const record of records(v)) {
      // Only the record the index points at: not overwritten copies, not tombstones.
      if (!v.map.get(record.keyHi, record.keyLo, current) || current.offset * 8 !== record.offset) continue;
      const n = v.readAt(record.offset, record.size);
      await send(
        call,
        ReadAllNeedlesResponse.create({
          volumeId,
          needleId: (BigInt(n.keyHi) << 32n) | BigInt(n.keyLo),
          cookie: n.cookie,
          needleBlob: n.data,
          needleBlobCompressed: isCompressed(n),
          lastModified: BigInt(n.lastModified),
          // weed reports the masked form here (its CRC.Value()).
          crc: maskedCrc(n.checksum),
          name: n.name,
          mime: n.mime,
        }),
      );
    }
  }
}

export function syncService(
  ctx: ServerContext,
): Pick<VolumeServerServer, "volumeSyncStatus" | "volumeIncrementalCopy" | "readAllNeedles"> {
  return {
    volumeSyncStatus: unary(async (call) => {
      const v = volumeOrFail(ctx, call.request.volumeId);
      return VolumeSyncStatusResponse.create({
        volumeId: v.id,
        collection: v.collection,
        replication: v.replication,
        ttl: v.ttlText,
        tailOffset: BigInt(v.datSize),
        compactRevision: v.superBlock.compactionRevision,
        idxFileSize: BigInt(v.indexSize),
        version: v.version,
      });
    }),
    volumeIncrementalCopy: serverStream((call) => incrementalCopy(ctx, call)),
    readAllNeedles: serverStream((call) => readAllNeedles(ctx, call)),
  };
}
