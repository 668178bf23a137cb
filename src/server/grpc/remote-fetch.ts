// FetchAndWriteNeedle (weed's volume_grpc_remote.go): reads a byte range of an object in a remote
// storage and stores it as a needle of a local volume, sending the same bytes to the replicas the
// caller names; the answer waits for all writes, and the local failure wins over a replica's.

import { status } from "@grpc/grpc-js";
import { replicateWrite } from "../../cluster/replicate.js";
import type { FetchAndWriteNeedleResponse, VolumeServerServer } from "../../pb/volume_server.js";
import { validateRemoteEndpoint, validateReplicaTarget } from "../../security/endpoints.js";
import { crcEtag, needleCrc } from "../../storage/needle/crc.js";
import { formatFileId } from "../../storage/needle/file-id.js";
import { newNeedle } from "../../storage/needle/needle.js";
import { FLAG_HAS_LAST_MODIFIED } from "../../storage/needle/needle-flags.js";
import { keyFromBigInt } from "../../storage/needle/needle-id.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { checkMaintenance } from "./volume-admin.js";

const EMPTY_LOCATION = { name: "", bucket: "", path: "", listingCacheTtlSeconds: 0 };

export function remoteFetchService(ctx: ServerContext): Pick<VolumeServerServer, "fetchAndWriteNeedle"> {
  return {
    fetchAndWriteNeedle: unary(async (call): Promise<FetchAndWriteNeedleResponse> => {
      checkAdminAuth(ctx, call);
      checkMaintenance(ctx);
      const r = call.request;
      const v = ctx.store.findVolume(r.volumeId);
      if (!v) throw new Error(`not found volume id ${r.volumeId}`);

      // Loaded on first use: the S3 SDK stays out of servers that never fetch.
      const { formatLocation, RemoteObjectNotFound, remoteEndpoint, remoteStorageReader } = await import(
        "../../storage/backend/remote-storage.js"
      );
      const conf = r.remoteConf ?? { type: "", name: "" };
      const trusted = ctx.options.allowUntrustedRemoteEndpoints;
      const endpoint = remoteEndpoint(conf as Parameters<typeof remoteEndpoint>[0]);
      if (!trusted && endpoint !== undefined) {
        await validateRemoteEndpoint(endpoint).catch((err: Error) => {
          throw new Error(`reject remote endpoint: ${err.message}`);
        });
      }
      let reader: ReturnType<typeof remoteStorageReader>;
      try {
        reader = remoteStorageReader(conf as Parameters<typeof remoteStorageReader>[0]);
      } catch (err) {
        throw new Error(`get remote client: ${(err as Error).message}`);
      }

      const location = r.remoteLocation ?? EMPTY_LOCATION;
      const where = `read from remote ${formatLocation(location)}`;
      const size = Number(r.size);
      let data: Buffer;
      try {
        data = await reader.readFile(location, Number(r.offset), size);
      } catch (err) {
        // A confirmed missing object keeps its own code, so callers can tell it from a failure.
        if (err instanceof RemoteObjectNotFound) throw failed(status.NOT_FOUND, `${where}: ${err.message}`);
        throw new Error(`${where}: ${(err as Error).message}`);
      }
      if (data.length !== size) throw new Error(`${where}: got ${data.length} bytes, want ${size}`);

      if (!trusted) {
        for (const replica of r.replicas) {
          await validateReplicaTarget(replica.url).catch((err: Error) => {
            throw new Error(`reject replica target: ${err.message}`);
          });
        }
      }

      const key = keyFromBigInt(r.needleId);
      const fid = formatFileId(v.id, key.hi, key.lo, r.cookie);
      const failure = (err: unknown) => `needle ${r.needleId} size ${r.size}: ${(err as Error).message}`;
      const replicaWrites = r.replicas.map((replica) =>
        replicateWrite([{ url: replica.url }], `/${fid}`, {
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
          jwt: r.auth,
        }).then(
          () => undefined,
          (err: unknown) => `remote write ${failure(err)}`,
        ),
      );

      const n = newNeedle({ data, keyHi: key.hi, keyLo: key.lo, cookie: r.cookie });
      n.lastModified = Math.floor(Date.now() / 1000);
      n.flags |= FLAG_HAS_LAST_MODIFIED;
      let localError: string | undefined;
      try {
        await v.writeQueued(n, { checkCookie: true });
      } catch (err) {
        localError = `local write ${failure(err)}`;
      }
      const replicaErrors = await Promise.all(replicaWrites);
      const error = localError ?? replicaErrors.find((e) => e !== undefined);
      if (error) throw new Error(error);
      return { eTag: crcEtag(needleCrc(data)) };
    }),
  };
}
