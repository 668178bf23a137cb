// Chunk manifests: a needle flagged as a manifest holds JSON naming the chunks (file ids) of one
// large file. Reads serve the chunks in order (needle-read-chunked); deleting the manifest deletes
// the chunks first. Chunks on this server are read directly, others over HTTP.

import { gunzipSync } from "node:zlib";
import { parseFileId } from "../../storage/needle/file-id.js";
import type { ServerContext } from "../context.js";

export interface ChunkInfo {
  fid: string;
  offset: number;
  size: number;
}

export interface ChunkManifest {
  name: string;
  mime: string;
  size: number;
  chunks: ChunkInfo[];
}

export function loadChunkManifest(data: Buffer, compressed: boolean): ChunkManifest {
  const text = (compressed ? gunzipSync(data) : data).toString();
  const raw = JSON.parse(text) as Partial<ChunkManifest> & { chunks?: Partial<ChunkInfo>[] };
  const chunks = (raw.chunks ?? []).map((c) => ({
    fid: String(c.fid ?? ""),
    offset: Number(c.offset ?? 0),
    size: Number(c.size ?? 0),
  }));
  chunks.sort((a, b) => a.offset - b.offset);
  return { name: String(raw.name ?? ""), mime: String(raw.mime ?? ""), size: Number(raw.size ?? 0), chunks };
}

async function chunkUrl(ctx: ServerContext, fid: string): Promise<string> {
  const { volumeId } = parseFileId(fid);
  const locations = await ctx.lookup.locations(volumeId);
  const target = locations[0];
  if (!target) throw new Error(`volume ${volumeId} has no location`);
  return `http://${target.url}/${fid}`;
}

/** The bytes of one chunk: from a local volume when it is here, else from its holder. */
export async function readChunk(ctx: ServerContext, fid: string): Promise<Buffer> {
  const parsed = parseFileId(fid);
  const local = ctx.store.findVolume(parsed.volumeId);
  if (local) {
    const n = local.read(parsed.keyHi, parsed.keyLo);
    if (n.cookie !== parsed.cookie) throw new Error(`chunk ${fid}: cookie mismatch`);
    return n.data;
  }
  const response = await fetch(await chunkUrl(ctx, fid));
  if (!response.ok) throw new Error(`chunk ${fid}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Deletes every chunk; the first failure stops the manifest's deletion, as in weed. */
export async function deleteChunks(ctx: ServerContext, manifest: ChunkManifest): Promise<void> {
  for (const chunk of manifest.chunks) {
    const parsed = parseFileId(chunk.fid);
    const local = ctx.store.findVolume(parsed.volumeId);
    if (local) {
      const n = local.read(parsed.keyHi, parsed.keyLo);
      if (n.cookie !== parsed.cookie) throw new Error(`chunk ${chunk.fid}: cookie mismatch`);
      await local.deleteQueued(parsed.keyHi, parsed.keyLo, parsed.cookie);
      continue;
    }
    const response = await fetch(await chunkUrl(ctx, chunk.fid), { method: "DELETE" });
    if (!response.ok && response.status !== 404)
      throw new Error(`delete chunk ${chunk.fid}: ${response.status}`);
  }
}
