// VolumeTierMoveDatToRemote / VolumeTierMoveDatFromRemote (weed's volume_grpc_tier_*.go): checks
// and messages as weed's; the move itself is storage/backend/volume-tier. Progress is streamed at
// most once a second, as weed does.

import type { ServerWritableStream } from "@grpc/grpc-js";
import type { VolumeServerServer } from "../../pb/volume_server.js";
import { moveDatFromRemote, moveDatToRemote } from "../../storage/backend/volume-tier.js";
import type { Volume } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth } from "./call.js";
import { send, serverStream } from "./streaming.js";
import { checkMaintenance } from "./volume-admin.js";

/** weed bounds a caller's concurrency so one request cannot open unbounded transfers. */
const clampConcurrency = (n: number) => Math.max(0, Math.min(n, 1024));

function tierVolume(ctx: ServerContext, volumeId: number, collection: string): Volume {
  const v = ctx.store.findVolume(volumeId);
  if (!v) throw new Error(`volume ${volumeId} not found`);
  if (v.collection !== collection) {
    throw new Error(`existing collection:${v.collection} unexpected input: ${collection}`);
  }
  return v;
}

type ProgressMessage = { processed: bigint; processedPercentage: number };

function progressSender(call: ServerWritableStream<unknown, ProgressMessage>) {
  let last = Date.now();
  return async (processed: number, percentage: number) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    await send(call, { processed: BigInt(processed), processedPercentage: percentage });
  };
}

export function tierService(
  ctx: ServerContext,
): Pick<VolumeServerServer, "volumeTierMoveDatToRemote" | "volumeTierMoveDatFromRemote"> {
  return {
    volumeTierMoveDatToRemote: serverStream(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const r = call.request;
      const v = tierVolume(ctx, r.volumeId, r.collection);
      await moveDatToRemote(v, r.destinationBackendName, {
        keepLocalDatFile: r.keepLocalDatFile,
        concurrency: clampConcurrency(r.concurrency),
        progress: progressSender(call),
      });
    }),

    volumeTierMoveDatFromRemote: serverStream(async (call) => {
      checkAdminAuth(ctx, call);
      const r = call.request;
      const v = tierVolume(ctx, r.volumeId, r.collection);
      await moveDatFromRemote(v, {
        keepRemoteDatFile: r.keepRemoteDatFile,
        concurrency: clampConcurrency(r.concurrency),
        progress: progressSender(call),
      });
    }),
  };
}
