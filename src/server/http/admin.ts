// /healthz, /readyz and /status on the admin port.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerContext } from "../context.js";
import { diskStatuses, diskStatusJson } from "../system-status.js";
import { endEmpty, writeJson } from "./respond.js";

export function handleHealthz(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  const healthy = !ctx.state.stopping && ctx.state.registered;
  // Go writes no body and, to a HEAD, no Content-Length either.
  if (req.method === "HEAD") res.writeHead(healthy ? 200 : 503).end();
  else endEmpty(res, healthy ? 200 : 503);
}

export function handleStatus(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  // weed answers with a map: its keys come out sorted.
  writeJson(req, res, 200, {
    DiskStatuses: diskStatuses(ctx.options.folders).map(diskStatusJson),
    Version: ctx.version,
    Volumes: volumeInfos(ctx),
  });
}

/** weed's VolumeInfo list (Go field names), sorted by id; null when there are none, as Go prints it. */
function volumeInfos(ctx: ServerContext): unknown[] | null {
  const list = [...ctx.store.volumes()].map(({ volume: v, location, diskId }) => {
    const rp = v.superBlock.replicaPlacement;
    const placement: Record<string, number> = {};
    if (rp.sameRackCount) placement["node"] = rp.sameRackCount;
    if (rp.diffRackCount) placement["rack"] = rp.diffRackCount;
    if (rp.diffDataCenterCount) placement["dc"] = rp.diffDataCenterCount;
    // Go's VolumeInfo field order (its JSON follows the struct).
    return {
      Collection: v.collection,
      DiskType: location.diskType,
      RemoteStorageName: v.info.files[0]?.backendId ?? "",
      ReplicaPlacement: placement,
      Ttl: { Count: v.superBlock.ttl.count, Unit: v.superBlock.ttl.unit },
      Size: v.datSize,
      DeletedByteCount: v.deletedBytes,
      ModifiedAtSecond: v.lastModifiedSeconds,
      Id: v.id,
      DiskId: diskId,
      CompactRevision: v.superBlock.compactionRevision,
      FileCount: v.fileCount,
      DeleteCount: v.deletedCount,
      Version: v.version,
      ReadOnly: v.isReadOnly(),
      ReadOnlyCanDelete: v.info.readOnlyCanDelete,
    };
  });
  list.sort((a, b) => a.Id - b.Id);
  return list.length > 0 ? list : null;
}
