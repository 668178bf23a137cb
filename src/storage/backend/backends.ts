// The tier backends this server knows, learnt from the master's heartbeat answers
// (storage_backends) as weed's backend.LoadFromPbStorageBackends: each is registered as
// "type.id", and the "default" one also as plain "type". A name seen once keeps its backend.
// The S3 SDK is loaded on first use only: a server that never tiers does not pay for it.

import type { StorageBackend } from "../../pb/master.js";
import type { S3Backend } from "./s3-backend.js";

const backends = new Map<string, StorageBackend>();
const built = new Map<StorageBackend, S3Backend>();

export function loadStorageBackends(list: StorageBackend[]): void {
  for (const b of list) {
    // Only S3 tiers are built here; weed logs and skips the types it lacks too.
    if (b.type !== "s3") continue;
    const name = `${b.type}.${b.id}`;
    if (backends.has(name)) continue;
    backends.set(name, b);
    if (b.id === "default") backends.set(b.type, b);
  }
}

/** A backend's settings as the master sent them, without building its client. */
export function storageBackendSettings(name: string): StorageBackend | undefined {
  return backends.get(name);
}

export async function findStorageBackend(name: string): Promise<S3Backend | undefined> {
  const b = backends.get(name);
  if (!b) return undefined;
  let backend = built.get(b);
  if (!backend) {
    const { S3Backend } = await import("./s3-backend.js");
    backend = new S3Backend(b.id, b.properties);
    built.set(b, backend);
  }
  return backend;
}

/** The registered names, as weed lists them in its "not found, supported: [...]" errors. */
export function storageBackendNames(): string[] {
  return [...backends.keys()];
}

/** "s3" → s3/default, "s3.cold" → s3/cold (weed's BackendNameToTypeId); other shapes → "", "". */
export function backendNameToTypeId(name: string): { type: string; id: string } {
  const parts = name.split(".");
  if (parts.length === 1) return { type: name, id: "default" };
  if (parts.length !== 2) return { type: "", id: "" };
  return { type: parts[0]!, id: parts[1]! };
}

/** The "type.id" name of a remote file's backend (weed's RemoteStorageNameKey). */
export function backendName(type: string, id: string): string {
  return `${type}.${id}`;
}
