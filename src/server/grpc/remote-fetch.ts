// FetchAndWriteNeedle (weed's volume_grpc_remote.go): a filer caching a range of a remote object
// asks us to read it from the remote store and write it as a needle, here and on the replicas it
// names. Caller-supplied endpoints and replica targets are checked against the untrusted-endpoint
// guard unless -volume.allowUntrustedRemoteEndpoints is set.

import { status } from "@grpc/grpc-js";
import { replicateWrite } from "../../cluster/replicate.js";
import { RemoteStorageLocation } from "../../pb/remote.js";
import type { FetchAndWriteNeedleRequest, VolumeServerServer } from "../../pb/volume_server.js";
import { validateRemoteEndpoint, validateReplicaTarget } from "../../security/endpoints.js";
import {
  formatRemoteLocation,
  RemoteObjectNotFound,
  type RemoteStorageClient,
  remoteEndpoint,
  remoteStorageClient,
} from "../../storage/backend/remote-storage.js";
import { crcEtag, needleCrc } from "../../storage/needle/crc.js";
import { formatFileId } from "../../storage/needle/file-id.js";
import { FLAG_HAS_LAST_MODIFIED, newNeedle } from "../../storage/needle/needle.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { checkMaintenance } from "./volume-admin.js";

async function openRemote(ctx: ServerContext, req: FetchAndWriteNeedleRequest): Promise<RemoteStorageClient> {
  const conf = req.remoteConf;
  if (!conf) throw new Error("get remote client: remote storage configuration is missing");
  if (!ctx.options.allowUntrustedRemoteEndpoints) {
    const endpoint = remoteEndpoint(conf);
    if (endpoint !== undefined) {
      await validateRemoteEndpoint(endpoint).catch((err: Error) => {
        throw new Error(`reject remote endpoint: ${err.message}`);
      });
    }
  }
  try {
    return remoteStorageClient(conf);
  } catch (err) {
    throw new Error(`get remote client: ${(err as Error).message}`);
  }
}

async function readRemote(client: RemoteStorageClient, req: FetchAndWriteNeedleRequest): Promise<Buffer> {
  const where = `read from remote ${formatRemoteLocation(req.remoteLocation)}`;
  let data: Buffer;
  try {
    data = await client.readFile(req.remoteLocation ?? RemoteStorageLocation.create(), req.offset, req.size);
  } catch (err) {
    // A missing object keeps its own code, so the filer can tell it from a failed read.
    if (err instanceof RemoteObjectNotFound) throw failed(status.NOT_FOUND, `${where}: ${err.message}`);
    throw new Error(`${where}: ${(err as Error).message}`);
  } finally {
    client.close();
  }
  // The filer records the chunk with the requested size: a short read must not be cached as it.
  if (BigInt(data.length) !== req.size)
    throw new Error(`${where}: got ${data.length} bytes, want ${req.size}`);
  return data;
}

export function remoteFetchService(ctx: ServerContext): Pick<VolumeServerServer, "fetchAndWriteNeedle"> {
  return {
    fetchAndWriteNeedle: unary(async (call) => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const req = call.request;
      const volume = ctx.store.findVolume(req.volumeId);
      if (!volume) throw new Error(`not found volume id ${req.volumeId}`);
      const data = await readRemote(await openRemote(ctx, req), req);
      // Every replica target is checked before anything is written anywhere.
      if (!ctx.options.allowUntrustedRemoteEndpoints) {
        for (const replica of req.replicas) {
          await validateReplicaTarget(replica.url).catch((err: Error) => {
            throw new Error(`reject replica target: ${err.message}`);
          });
        }
      }

      const keyHi = Number(req.needleId >> 32n);
      const keyLo = Number(req.needleId & 0xffffffffn);
      const n = newNeedle({
        keyHi,
        keyLo,
        cookie: req.cookie,
        data,
        lastModified: Math.floor(Date.now() / 1000),
        flags: FLAG_HAS_LAST_MODIFIED,
      });
      const what = `needle ${req.needleId} size ${req.size}`;
      const path = `/${formatFileId(volume.id, keyHi, keyLo, req.cookie)}`;
      const replication = replicateWrite(
        req.replicas.map((r) => ({ url: r.url })),
        path,
        {
          data,
          fileName: "",
          mimeType: "",
          isCompressed: false,
          pairs: {},
          ttl: "",
          lastModified: 0,
          isChunkManifest: false,
          contentMd5: "",
          fsync: false,
          jwt: req.auth,
        },
      );
      replication.catch(() => undefined);
      let localError: Error | undefined;
      try {
        volume.write(n, { checkCookie: true });
      } catch (err) {
        localError = new Error(`local write ${what}: ${(err as Error).message}`);
      }
      // The local write's error wins over a replica's.
      const replicaError = await replication.then(
        () => undefined,
        (err: Error) => new Error(`remote write ${what}: ${err.message}`),
      );
      if (localError ?? replicaError) throw localError ?? replicaError;
      return { eTag: crcEtag(needleCrc(data)) };
    }),
  };
}
