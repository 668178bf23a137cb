// DELETE /<fid>: delete a needle after checking its cookie, as weed's DeleteHandler; answers
// {"size": n} with 202, 404 {"size": 0} when there is nothing to delete.

import type { IncomingMessage, ServerResponse } from "node:http";
import { remoteReplicas, replicateDelete } from "../../cluster/replicate.js";
import { tokenFromRequest } from "../../security/jwt.js";
import { parseNeedlePath, parseVolumeId } from "../../storage/needle/file-id.js";
import { FLAG_CHUNK_MANIFEST, FLAG_COMPRESSED, type Needle } from "../../storage/needle/needle.js";
import type { ServerContext } from "../context.js";
import { type ChunkManifest, deleteChunks, loadChunkManifest } from "./chunk-manifest.js";
import { parseFidPath } from "./fid-path.js";
import { serveEcDelete } from "./needle-delete-ec.js";
import { refusedWriteToken } from "./needle-write.js";
import { writeJson, writeJsonError } from "./respond.js";

export async function handleDelete(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://x");
  const path = parseFidPath(url.pathname);
  let key: { keyHi: number; keyLo: number; cookie: number };
  try {
    key = parseNeedlePath(path.fid);
  } catch (err) {
    writeJsonError(req, res, 400, (err as Error).message);
    return;
  }
  if (await refusedWriteToken(ctx, req, res, url.searchParams, path)) return;
  let volumeId = -1;
  try {
    volumeId = parseVolumeId(path.volumeId);
  } catch {}
  const volume = ctx.store.findVolume(volumeId);
  if (!volume && (await serveEcDelete(ctx, req, res, volumeId, key))) return;
  let stored: Needle | undefined;
  try {
    stored = volume?.read(key.keyHi, key.keyLo);
  } catch {}
  if (!volume || !stored) {
    writeJson(req, res, 404, { size: 0 });
    return;
  }
  if (stored.cookie !== key.cookie) {
    writeJsonError(req, res, 400, "File Random Cookie does not match.");
    return;
  }
  let size = stored.size;
  if (stored.flags & FLAG_CHUNK_MANIFEST) {
    let manifest: ChunkManifest;
    try {
      manifest = loadChunkManifest(stored.data, (stored.flags & FLAG_COMPRESSED) !== 0);
    } catch (err) {
      writeJsonError(req, res, 500, `Load chunks manifest error: ${(err as Error).message}`);
      return;
    }
    try {
      await deleteChunks(ctx, manifest);
    } catch (err) {
      writeJsonError(req, res, 500, `Delete chunks error: ${(err as Error).message}`);
      return;
    }
    size = manifest.size;
  }
  try {
    const self = `${ctx.options.ip}:${ctx.options.port}`;
    const remotes =
      url.searchParams.get("type") === "replicate"
        ? []
        : await remoteReplicas(ctx.lookup, volumeId, volume, self, false);
    const replication = replicateDelete(remotes, url.pathname, tokenFromRequest(req, url.searchParams));
    replication.catch(() => undefined);
    await volume.deleteQueued(key.keyHi, key.keyLo, key.cookie);
    await replication;
  } catch (err) {
    writeJsonError(req, res, 500, `Deletion Failed: ${(err as Error).message}`);
    return;
  }
  writeJson(req, res, 202, { size });
}
