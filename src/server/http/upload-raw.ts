// Stand-in upload reader (raw bodies only) until the full parser (multipart, gzip, MD5, pairs)
// lands in upload.ts; same result shape.

import type { IncomingMessage } from "node:http";

export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ParsedUpload {
  data: Buffer;
  fileName: string;
  mimeType: string;
  isGzipped: boolean;
  originalDataSize: number;
  modifiedTime: number;
  ttl: string;
  pairs: Record<string, string>;
  isChunkManifest: boolean;
  contentMd5: string;
}

export async function parseUpload(
  req: IncomingMessage,
  options: { fileSizeLimitBytes: number },
): Promise<ParsedUpload> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > options.fileSizeLimitBytes) throw new UploadError(400, "file over the limited size");
    chunks.push(chunk as Buffer);
  }
  const url = new URL(req.url ?? "/", "http://x");
  const contentType = req.headers["content-type"] ?? "";
  const pairs: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith("seaweed-") && typeof value === "string") pairs[name.slice(8)] = value;
  }
  const data = Buffer.concat(chunks, total);
  return {
    data,
    fileName: "",
    mimeType: contentType === "application/octet-stream" ? "" : contentType,
    isGzipped: false,
    originalDataSize: data.length,
    modifiedTime: Number(url.searchParams.get("ts") ?? 0) || 0,
    ttl: url.searchParams.get("ttl") ?? "",
    pairs,
    isChunkManifest: url.searchParams.get("cm") === "true",
    contentMd5: "",
  };
}
