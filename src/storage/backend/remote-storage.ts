// Reading objects from the remote stores a filer mounts (remote_pb.RemoteConf): every S3-compatible
// type weed's remote_storage knows, through @aws-sdk/client-s3. FetchAndWriteNeedle uses it to
// cache a range of a remote object as a needle. Azure and GCS need their own SDKs: they are refused
// with a clear error rather than half supported.

import { GetObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import type { RemoteConf, RemoteStorageLocation } from "../../pb/remote.js";

/** The object does not exist (weed's remote_storage.ErrRemoteObjectNotFound). */
export class RemoteObjectNotFound extends Error {
  constructor() {
    super("remote object not found");
  }
}

export interface RemoteStorageClient {
  /** `size` bytes from `offset` of the object at `location` (fewer when the object is shorter). */
  readFile(location: RemoteStorageLocation, offset: bigint, size: bigint): Promise<Buffer>;
  close(): void;
}

interface S3Options {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  forcePathStyle: boolean;
}

const env = (name: string) => process.env[name] ?? "";
const or = (value: string, fallback: string) => value || fallback;

/** The S3 settings of each S3-compatible type, as weed's s3 remote client reads them. */
function s3Options(conf: RemoteConf): S3Options | undefined {
  switch (conf.type) {
    case "s3":
      return {
        endpoint: conf.s3Endpoint,
        region: conf.s3Region,
        accessKey: conf.s3AccessKey,
        secretKey: conf.s3SecretKey,
        forcePathStyle: conf.s3ForcePathStyle,
      };
    case "aliyun":
      return {
        endpoint: conf.aliyunEndpoint,
        region: conf.aliyunRegion,
        accessKey: or(conf.aliyunAccessKey, env("ALICLOUD_ACCESS_KEY_ID")),
        secretKey: or(conf.aliyunSecretKey, env("ALICLOUD_ACCESS_KEY_SECRET")),
        forcePathStyle: false,
      };
    case "b2":
      return {
        endpoint: conf.backblazeEndpoint,
        region: conf.backblazeRegion,
        accessKey: conf.backblazeKeyId,
        secretKey: conf.backblazeApplicationKey,
        forcePathStyle: true,
      };
    case "baidu":
      return {
        endpoint: conf.baiduEndpoint,
        region: conf.baiduRegion,
        accessKey: or(conf.baiduAccessKey, env("BDCLOUD_ACCESS_KEY")),
        secretKey: or(conf.baiduSecretKey, env("BDCLOUD_SECRET_KEY")),
        forcePathStyle: false,
      };
    case "contabo":
      return {
        endpoint: conf.contaboEndpoint,
        region: conf.contaboRegion,
        accessKey: or(conf.contaboAccessKey, env("ACCESS_KEY")),
        secretKey: or(conf.contaboSecretKey, env("SECRET_KEY")),
        forcePathStyle: true,
      };
    case "filebase":
      return {
        endpoint: conf.filebaseEndpoint,
        region: "us-east-1",
        accessKey: or(conf.filebaseAccessKey, env("AWS_ACCESS_KEY_ID")),
        secretKey: or(conf.filebaseSecretKey, env("AWS_SECRET_ACCESS_KEY")),
        forcePathStyle: true,
      };
    case "storj":
      return {
        endpoint: conf.storjEndpoint,
        region: "us-west-2",
        accessKey: or(conf.storjAccessKey, env("AWS_ACCESS_KEY_ID")),
        secretKey: or(conf.storjSecretKey, env("AWS_SECRET_ACCESS_KEY")),
        forcePathStyle: true,
      };
    case "tencent":
      return {
        endpoint: conf.tencentEndpoint,
        region: "us-west-2",
        accessKey: or(conf.tencentSecretId, env("COS_SECRETID")),
        secretKey: or(conf.tencentSecretKey, env("COS_SECRETKEY")),
        forcePathStyle: true,
      };
    case "wasabi":
      return {
        endpoint: conf.wasabiEndpoint,
        region: conf.wasabiRegion,
        accessKey: conf.wasabiAccessKey,
        secretKey: conf.wasabiSecretKey,
        forcePathStyle: true,
      };
    default:
      return undefined;
  }
}

/**
 * The endpoint a configuration makes us dial, for the untrusted-endpoint guard; undefined when the
 * type dials a fixed provider host (an "s3" conf without endpoint goes to AWS itself).
 */
export function remoteEndpoint(conf: RemoteConf): string | undefined {
  const options = s3Options(conf);
  return options?.endpoint || undefined;
}

/** A client for the configuration; throws weed's "remote storage type … not found" otherwise. */
export function remoteStorageClient(conf: RemoteConf): RemoteStorageClient {
  const options = s3Options(conf);
  if (!options) {
    if (conf.type === "azure" || conf.type === "gcs")
      throw new Error(`remote storage type ${conf.type} is not supported by this volume server`);
    throw new Error(`remote storage type ${conf.type} not found`);
  }
  const client = new S3Client({
    region: options.region || "us-east-1",
    endpoint: options.endpoint || undefined,
    forcePathStyle: options.forcePathStyle,
    // Without keys weed reads anonymously; the SDK then signs with nothing rather than failing.
    credentials:
      options.accessKey && options.secretKey
        ? { accessKeyId: options.accessKey, secretAccessKey: options.secretKey }
        : { accessKeyId: "", secretAccessKey: "" },
  });
  return {
    async readFile(location, offset, size) {
      const key = location.path.replace(/^\//, "");
      try {
        const answer = await client.send(
          new GetObjectCommand({
            Bucket: location.bucket,
            Key: key,
            Range: `bytes=${offset}-${offset + size - 1n}`,
          }),
        );
        const bytes = await answer.Body?.transformToByteArray();
        return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.alloc(0);
      } catch (err) {
        if (
          err instanceof S3ServiceException &&
          (err.name === "NoSuchKey" || err.$metadata.httpStatusCode === 404)
        )
          throw new RemoteObjectNotFound();
        throw err;
      }
    },
    close: () => client.destroy(),
  };
}

/** A location as weed prints one with %+v: its protobuf text form. */
export function formatRemoteLocation(location: RemoteStorageLocation | undefined): string {
  if (!location) return "<nil>";
  const fields: string[] = [];
  if (location.name) fields.push(`name:${JSON.stringify(location.name)}`);
  if (location.bucket) fields.push(`bucket:${JSON.stringify(location.bucket)}`);
  if (location.path) fields.push(`path:${JSON.stringify(location.path)}`);
  return fields.join(" ");
}
