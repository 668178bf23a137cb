// The content of a chunk manifest read as one file, as weed's ChunkedFileReader presents it: the
// chunks in offset order, the size the sum of the chunk sizes, ranges served from the chunks they
// cover. Each chunk is read whole (locally, checksum verified, or from its holder) and sliced.

import type { ServerContext } from "../context.js";
import { type ChunkManifest, readChunk } from "./chunk-manifest.js";
import type { ContentSource } from "./needle-read-content.js";

export function chunkedSource(ctx: ServerContext, manifest: ChunkManifest): ContentSource {
  let size = 0;
  for (const c of manifest.chunks) size += c.size;
  return {
    size,
    async *chunks(start, length) {
      const end = start + length;
      for (const c of manifest.chunks) {
        if (c.offset + c.size <= start || c.offset >= end) continue;
        const data = await readChunk(ctx, c.fid);
        const from = Math.max(start, c.offset) - c.offset;
        const to = Math.min(end, c.offset + c.size) - c.offset;
        if (data.length < to) throw new Error(`chunk ${c.fid}: ${data.length} bytes, expected ${c.size}`);
        yield data.subarray(from, to);
      }
    },
  };
}
