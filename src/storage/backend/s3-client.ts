// S3 clients for the remote tier and for remote storage reads. One client per endpoint and
// credentials, kept for the process: the SDK pools its connections per client.

import { S3Client } from "@aws-sdk/client-s3";

export interface S3Settings {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  forcePathStyle: boolean;
}

const clients = new Map<string, S3Client>();

export function s3Client(s: S3Settings): S3Client {
  const cacheKey = JSON.stringify(s);
  let client = clients.get(cacheKey);
  if (!client) {
    client = new S3Client({
      // weed falls back to us-east-1 when no region is configured.
      region: s.region || "us-east-1",
      endpoint: s.endpoint || undefined,
      forcePathStyle: s.forcePathStyle,
      credentials: s.accessKey ? { accessKeyId: s.accessKey, secretAccessKey: s.secretKey } : undefined,
      // S3-compatible stores (weed s3 among them) do not all know the newer checksum headers.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    clients.set(cacheKey, client);
  }
  return client;
}

/** True when S3 answered that the object (or bucket) does not exist. */
export function isS3NotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

/** An inclusive HTTP byte range for `length` bytes at `offset`. */
export function byteRange(offset: number, length: number): string {
  return `bytes=${offset}-${offset + length - 1}`;
}

/** Reads a GetObject body into one buffer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const stream = body as { transformToByteArray(): Promise<Uint8Array> } | undefined;
  if (!stream) return Buffer.alloc(0);
  const bytes = await stream.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
