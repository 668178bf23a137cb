// VolumeTierMoveDatToRemote and VolumeTierMoveDatFromRemote (weed's volume_grpc_tier_*.go): moving a
// volume's .dat to a remote tier the master announced, and back. The checks come first, as weed
// makes them; copying the bytes to S3 is not built yet, and says so.

import type { VolumeServerServer } from "../../pb/volume_server.js";
import { backendNameToTypeId } from "../../storage/backend/backends.js";
import type { Volume } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth } from "./call.js";
import { serverStream } from "./streaming.js";
import { checkMaintenance } from "./volume-admin.js";

function tieredVolume(ctx: ServerContext, volumeId: number, collection: string): Volume {
  const v = ctx.store.findVolume(volumeId);
  if (!v) throw new Error(`volume ${volumeId} not found`);
  if (v.collection !== collection)
    throw new Error(`existing collection:${v.collection} unexpected input: ${collection}`);
  return v;
}

/** Go's %v of the names, sorted so that the message is stable. */
function supported(ctx: ServerContext): string {
  return `[${[...ctx.state.storageBackends.keys()].sort().join(" ")}]`;
}

function notBuilt(name: string, v: Volume): Error {
  return new Error(
    `backend ${name} copy file ${v.id}.dat: moving volume files to and from a remote tier is not implemented by this volume server`,
  );
}

export function tierService(
  ctx: ServerContext,
): Pick<VolumeServerServer, "volumeTierMoveDatToRemote" | "volumeTierMoveDatFromRemote"> {
  return {
    volumeTierMoveDatToRemote: serverStream(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const req = call.request;
      const v = tieredVolume(ctx, req.volumeId, req.collection);
      const name = req.destinationBackendName;
      if (!ctx.state.storageBackends.has(name))
        throw new Error(`destination ${name} not found, supported: ${supported(ctx)}`);
      const { type, id } = backendNameToTypeId(name);
      if (v.info.files.some((f) => f.backendType === type && f.backendId === id))
        throw new Error(`destination ${name} already exists`);
      throw notBuilt(name, v);
    }),

    volumeTierMoveDatFromRemote: serverStream(async (call) => {
      checkAdminAuth(ctx, call);
      const req = call.request;
      tieredVolume(ctx, req.volumeId, req.collection);
      // Our volumes are always served from a local .dat (one that lives only remotely does not
      // load yet), which weed answers so whether or not the .vif names a remote copy.
      throw new Error(`volume ${req.volumeId} is already on local disk`);
    }),
  };
}
