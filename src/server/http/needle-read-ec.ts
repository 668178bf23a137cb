// GET/HEAD of a needle in an EC volume held here (weed reads it with ReadEcShardNeedle): the
// record is assembled from the shards (local, fetched from peers, or rebuilt) and then served as
// any needle is.

import type { IncomingMessage, ServerResponse } from "node:http";
import { EcNeedleDeleted, EcNeedleNotFound } from "../../storage/erasure-coding/ec-read.js";
import { ecStoreOf } from "../../storage/erasure-coding/ec-store.js";
import { keyToBigInt } from "../../storage/needle/needle-id.js";
import type { ServerContext } from "../context.js";
import { readNeedleFromEc } from "../grpc/erasure-coding-read.js";
import { endStatus, internalError, type ReadTarget, serveNeedle } from "./needle-read.js";

/** Serves the read when the volume is an EC volume here; false when it is not. */
export async function serveEcRead(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: ReadTarget,
  volumeId: number,
  key: { keyHi: number; keyLo: number },
): Promise<boolean> {
  const ec = ecStoreOf(ctx.store).find(volumeId);
  if (!ec) return false;
  let needle: Awaited<ReturnType<typeof readNeedleFromEc>>;
  try {
    needle = await readNeedleFromEc(ctx, ec, keyToBigInt(key.keyHi, key.keyLo));
  } catch (err) {
    if (err instanceof EcNeedleNotFound || err instanceof EcNeedleDeleted) endStatus(req, res, 404);
    else internalError(req, res, (err as Error).message);
    return true;
  }
  await serveNeedle(ctx, req, res, target, { needle });
  return true;
}
