// Reads from a remote storage named by a remote_pb.RemoteConf (weed's remote_storage package), as
// FetchAndWriteNeedle needs: a byte range of an object. S3 and the S3-compatible kinds whose
// settings live in the s3_* fields are supported; other kinds are refused as weed refuses an
// unknown type.

import { GetObjectCommand } from "@aws-sdk/client-s3";
import type { RemoteConf, RemoteStorageLocation } from "../../pb/remote.js";
import { bodyBytes, byteRange, isS3NotFound, s3Client } from "./s3-client.js";

/** weed's remote_storage.ErrRemoteObjectNotFound text. */
export class RemoteObjectNotFound extends Error {
  constructor() {
    super("remote object not found");
    this.name = "RemoteObjectNotFound";
  }
}

export interface RemoteStorageReader {
  /** `size` bytes at `offset` of the object at `location`; RemoteObjectNotFound when it is absent. */
  readFile(location: RemoteStorageLocation, offset: number, size: number): Promise<Buffer>;
}

/** The endpoint a remote configuration dials, for the endpoint guard; undefined for other kinds. */
export function remoteEndpoint(conf: RemoteConf): string | undefined {
  return conf.type === "s3" ? conf.s3Endpoint : undefined;
}

export function remoteStorageReader(conf: RemoteConf): RemoteStorageReader {
  if (conf.type !== "s3") throw new Error(`remote storage type ${conf.type} not found`);
  const client = s3Client({
    endpoint: conf.s3Endpoint,
    region: conf.s3Region,
    accessKey: conf.s3AccessKey,
    secretKey: conf.s3SecretKey,
    forcePathStyle: conf.s3ForcePathStyle,
  });
  return {
    async readFile(location, offset, size) {
      const command = new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.path.replace(/^\//, ""),
        Range: size > 0 ? byteRange(offset, size) : undefined,
      });
      try {
        const answer = await client.send(command);
        return await bodyBytes(answer.Body);
      } catch (err) {
        if (isS3NotFound(err)) throw new RemoteObjectNotFound();
        throw err;
      }
    },
  };
}

/** A location as Go's %+v prints the message: its set fields in order. */
export function formatLocation(location: RemoteStorageLocation): string {
  const fields: string[] = [];
  if (location.name) fields.push(`name:${JSON.stringify(location.name)}`);
  if (location.bucket) fields.push(`bucket:${JSON.stringify(location.bucket)}`);
  if (location.path) fields.push(`path:${JSON.stringify(location.path)}`);
  return fields.join(" ");
}
