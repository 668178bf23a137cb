// /healthz, /readyz and /status on the admin port.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerContext } from "../context.js";
import { diskStatuses, diskStatusJson } from "../system-status.js";
import { endEmpty, writeJson } from "./respond.js";

export function handleHealthz(ctx: ServerContext, _req: IncomingMessage, res: ServerResponse): void {
  const healthy = !ctx.state.stopping && ctx.state.registered;
  endEmpty(res, healthy ? 200 : 503);
}

export function handleStatus(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  // weed marshals a Go map here: its keys come out sorted.
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
    return {
      Id: v.id,
      Size: v.datSize,
      ReplicaPlacement: placement,
      Ttl: { Count: v.superBlock.ttl.count, Unit: v.superBlock.ttl.unit },
      DiskType: location.diskType,
      DiskId: diskId,
      Collection: v.collection,
      Version: v.version,
      FileCount: v.fileCount,
      DeleteCount: v.deletedCount,
      DeletedByteCount: v.deletedBytes,
      ReadOnly: v.isReadOnly(),
      CompactRevision: v.superBlock.compactionRevision,
      ModifiedAtSecond: v.lastModifiedSeconds,
      RemoteStorageName: v.info.files[0]?.backendId ?? "",
      RemoteStorageKey: v.info.files[0]?.key ?? "",
    };
  });
  list.sort((a, b) => a.Id - b.Id);
  return list.length > 0 ? list : null;
}
