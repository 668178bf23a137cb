// An S3 tier backend (weed's storage/backend/s3_backend): a volume's .dat is uploaded as one object
// under a random key (multipart when large, parts in parallel), read back by ranged GETs while the
// volume is tiered, downloaded back to a local .dat, and deleted.

import { randomUUID } from "node:crypto";
import { open } from "node:fs/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  type StorageClass,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { bodyBytes, byteRange, s3Client } from "./s3-client.js";

/** Called as bytes move: the total so far and its percentage of the file. */
export type Progress = (processed: number, percentage: number) => Promise<void> | void;

const MIB = 1024 * 1024;
/** Download chunk: small enough to keep memory flat, large enough to amortise a request. */
const DOWNLOAD_CHUNK = 16 * MIB;

/** weed's part size: 64 MiB, quadrupled until 1000 parts cover the file. */
export function uploadPartSize(fileSize: number): number {
  let part = 64 * MIB;
  while (part * 1000 < fileSize) part *= 4;
  return part;
}

/** Runs `count` jobs with at most `limit` at a time; the first failure stops new ones. */
async function inParallel(count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const i = next++;
      try {
        await job(i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

function percent(done: number, total: number): number {
  return total === 0 ? 100 : (done * 100) / total;
}

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number.parseInt(text ?? "", 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export class S3Backend {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly storageClass: string;
  private readonly uploadConcurrency: number;
  private readonly downloadConcurrency: number;

  /** `properties` as the master sends them (weed's [storage.backend.s3.<id>] settings). */
  constructor(
    readonly id: string,
    readonly properties: Record<string, string>,
  ) {
    this.bucket = properties["bucket"] ?? "";
    this.storageClass = properties["storage_class"] || "STANDARD_IA";
    this.uploadConcurrency = positiveInt(properties["upload_concurrency"], 5);
    this.downloadConcurrency = positiveInt(properties["download_concurrency"], 5);
    const pathStyle = (properties["force_path_style"] ?? "").toLowerCase();
    this.client = s3Client({
      endpoint: properties["endpoint"] ?? "",
      region: properties["region"] ?? "",
      accessKey: properties["aws_access_key_id"] ?? "",
      secretKey: properties["aws_secret_access_key"] ?? "",
      forcePathStyle: !["false", "0", "f", "no"].includes(pathStyle),
    });
  }

  /** Uploads the file at `path` under a fresh key; resolves with the key and the size sent. */
  async copyFile(
    path: string,
    progress: Progress,
    concurrency: number,
  ): Promise<{ key: string; size: number }> {
    const key = randomUUID();
    const file = await open(path, "r");
    try {
      const size = (await file.stat()).size;
      const partSize = uploadPartSize(size);
      const storageClass = this.storageClass as StorageClass;
      if (size <= partSize) {
        const body = Buffer.alloc(size);
        if (size > 0) await file.read(body, 0, size, 0);
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, StorageClass: storageClass }),
        );
        await progress(size, 100);
        return { key, size };
      }
      const created = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, StorageClass: storageClass }),
      );
      const uploadId = created.UploadId;
      const parts: { ETag: string; PartNumber: number }[] = [];
      let sent = 0;
      try {
        const count = Math.ceil(size / partSize);
        await inParallel(count, concurrency > 0 ? concurrency : this.uploadConcurrency, async (i) => {
          const length = Math.min(partSize, size - i * partSize);
          const body = Buffer.alloc(length);
          await file.read(body, 0, length, i * partSize);
          const answer = await this.client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: i + 1,
              Body: body,
            }),
          );
          parts.push({ ETag: answer.ETag ?? "", PartNumber: i + 1 });
          sent += length;
          await progress(sent, percent(sent, size));
        });
        parts.sort((a, b) => a.PartNumber - b.PartNumber);
        await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      } catch (err) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => undefined);
        throw err;
      }
      return { key, size };
    } finally {
      await file.close();
    }
  }

  /** Downloads the object `key` into a new file at `path` (fsynced); resolves with its size. */
  async downloadFile(path: string, key: string, progress: Progress, concurrency: number): Promise<number> {
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    const size = head.ContentLength ?? 0;
    const file = await open(path, "w");
    try {
      let received = 0;
      const count = Math.ceil(size / DOWNLOAD_CHUNK);
      await inParallel(count, concurrency > 0 ? concurrency : this.downloadConcurrency, async (i) => {
        const offset = i * DOWNLOAD_CHUNK;
        const chunk = await this.readAt(key, offset, Math.min(DOWNLOAD_CHUNK, size - offset));
        await file.write(chunk, 0, chunk.length, offset);
        received += chunk.length;
        await progress(received, percent(received, size));
      });
      await file.sync();
    } finally {
      await file.close();
    }
    return size;
  }

  /** `length` bytes of the object at `offset` (a ranged GET). */
  async readAt(key: string, offset: number, length: number): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    const answer = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: byteRange(offset, length) }),
    );
    const bytes = await bodyBytes(answer.Body);
    if (bytes.length !== length) {
      throw new Error(
        `bucket ${this.bucket} read ${key}: got ${bytes.length} bytes at ${offset}, want ${length}`,
      );
    }
    return bytes;
  }

  async deleteFile(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
