// Replication of writes and deletes, as weed's store_replicate.go: a volume whose replica
// placement asks for copies sends each write (multipart, ?type=replicate) and delete to every other
// writable holder the master names, in parallel with the local operation; the client is answered
// after all of them, and any failure fails the request.

import { randomBytes } from "node:crypto";
import type { Location } from "../pb/master.js";
import { copyCount } from "../storage/volume/replica-placement.js";
import type { Volume } from "../storage/volume/volume.js";
import type { VolumeLookup } from "./volume-lookup.js";

export interface ReplicaTarget {
  url: string;
}

/** The other holders a write (or, with writableOnly false, a delete) must reach. */
export async function remoteReplicas(
  lookup: VolumeLookup,
  volumeId: number,
  local: Volume | undefined,
  self: string,
  writableOnly: boolean,
): Promise<ReplicaTarget[]> {
  if (local && copyCount(local.superBlock.replicaPlacement) === 1) return [];
  let locations: Location[];
  try {
    locations = await lookup.locations(volumeId, true);
  } catch (err) {
    throw new Error(`replicating lookup failed for ${volumeId}: ${(err as Error).message}`);
  }
  let usable = 0;
  const remotes: ReplicaTarget[] = [];
  for (const l of locations) {
    if (writableOnly && l.readOnly) continue;
    if (!writableOnly && l.readOnly && !l.readOnlyCanDelete) continue;
    usable++;
    if (l.url !== self) remotes.push({ url: l.url });
  }
  if (local) {
    const copies = copyCount(local.superBlock.replicaPlacement);
    if (usable < copies) {
      lookup.invalidate(volumeId);
      const label = writableOnly ? "writable replication" : "replication";
      throw new Error(
        `${label} locations [${usable}] is less than volume ${volumeId} replication copy count [${copies}]`,
      );
    }
  }
  return remotes;
}

export interface ReplicaUpload {
  data: Buffer;
  fileName: string;
  mimeType: string;
  isCompressed: boolean;
  pairs: Record<string, string>;
  ttl: string;
  lastModified: number;
  isChunkManifest: boolean;
  contentMd5: string;
  fsync: boolean;
  jwt: string;
}

function quote(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`);
}

/** A multipart body with one "file" part, as weed's uploader builds it. */
function multipartBody(upload: ReplicaUpload, url: string): { body: Buffer; contentType: string } {
  const boundary = randomBytes(30).toString("hex");
  const head = [
    `--${boundary}`,
    `Content-Disposition: form-data; name="file"; filename="${quote(upload.fileName)}"`,
    `Idempotency-Key: ${url}`,
  ];
  if (upload.mimeType) head.push(`Content-Type: ${upload.mimeType}`);
  if (upload.isCompressed) head.push("Content-Encoding: gzip");
  if (upload.contentMd5) head.push(`Content-MD5: ${upload.contentMd5}`);
  const body = Buffer.concat([
    Buffer.from(`${head.join("\r\n")}\r\n\r\n`),
    upload.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

function timeoutFor(bytes: number): number {
  return 10_000 + Math.floor((bytes * 1000) / (1 << 20));
}

async function each(targets: ReplicaTarget[], op: (t: ReplicaTarget) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(targets.map(op));
  const errors = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
  if (errors.length > 0) throw new Error(errors.join("; "));
}

export async function replicateWrite(
  targets: ReplicaTarget[],
  path: string,
  upload: ReplicaUpload,
): Promise<void> {
  await each(targets, async (t) => {
    const query = new URLSearchParams({ type: "replicate", ttl: upload.ttl });
    if (upload.fsync) query.set("fsync", "true");
    if (upload.lastModified > 0) query.set("ts", String(upload.lastModified));
    if (upload.isChunkManifest) query.set("cm", "true");
    const url = `http://${t.url}${path}?${query}`;
    const { body, contentType } = multipartBody(upload, url);
    const headers: Record<string, string> = { "Content-Type": contentType };
    for (const [k, v] of Object.entries(upload.pairs)) headers[`Seaweed-${k}`] = v;
    if (upload.jwt) headers["Authorization"] = `Bearer ${upload.jwt}`;
    const response = await fetch(url, {
      method: "POST",
      body,
      headers,
      signal: AbortSignal.timeout(timeoutFor(body.length)),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`replicate to ${t.url}: ${response.status} ${text.trim()}`);
  });
}

export async function replicateDelete(targets: ReplicaTarget[], path: string, jwt: string): Promise<void> {
  await each(targets, async (t) => {
    const headers: Record<string, string> = {};
    if (jwt) headers["Authorization"] = `Bearer ${jwt}`;
    const response = await fetch(`http://${t.url}${path}?type=replicate`, {
      method: "DELETE",
      headers,
      signal: AbortSignal.timeout(10_000),
    });
    await response.text();
    if (response.status >= 300 && response.status !== 404)
      throw new Error(`delete on ${t.url}: ${response.status}`);
  });
}
