// The remote tiers a master announces in its heartbeat answers (master_pb.StorageBackend), by the
// names weed gives them: "<type>.<id>", and "<type>" alone for the "default" id. Only S3 is a tier
// type weed builds into the volume server; other types are skipped as weed skips them.

import type { StorageBackend } from "../../pb/master.js";

const TIER_TYPES = new Set(["s3"]);

/** Adds the announced backends not known yet (weed keeps the first definition of a name). */
export function recordStorageBackends(known: Map<string, StorageBackend>, announced: StorageBackend[]): void {
  for (const backend of announced) {
    if (!TIER_TYPES.has(backend.type)) continue;
    const name = `${backend.type}.${backend.id}`;
    if (known.has(name)) continue;
    known.set(name, backend);
    if (backend.id === "default") known.set(backend.type, backend);
  }
}

/** "s3" → s3/default, "s3.cold" → s3/cold; anything else has no type. */
export function backendNameToTypeId(name: string): { type: string; id: string } {
  const parts = name.split(".");
  if (parts.length === 1) return { type: name, id: "default" };
  if (parts.length !== 2) return { type: "", id: "" };
  return { type: parts[0]!, id: parts[1]! };
}
