// How an upload's bytes are kept: weed's choice of which types it gzips itself, the gzip it uses,
// the size and MD5 of a gzipped upload's content, and the JSON form of the Seaweed-* pairs.

import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { constants, createGunzip, gzip } from "node:zlib";

const gzipAsync = promisify(gzip);

/** Archive and already-compressed formats by extension, and the text-like ones. */
const COMPRESSED_EXTS = new Set([
  ".zip",
  ".rar",
  ".gz",
  ".bz2",
  ".xz",
  ".zst",
  ".br",
  ".png",
  ".jpg",
  ".jpeg",
]);
const TEXT_EXTS = new Set([
  ".pdf",
  ".txt",
  ".html",
  ".htm",
  ".css",
  ".js",
  ".json",
  ".php",
  ".java",
  ".go",
  ".rb",
  ".c",
  ".cpp",
  ".h",
  ".hpp",
]);
const WAVE_SUBTYPES = new Set(["wave", "wav", "x-wav", "x-pn-wav"]);

/**
 * Whether weed gzips an upload of this extension and type itself (weed/util/compression.go
 * IsCompressableFileType): `sure` false means it does not know, and then it does not compress.
 */
export function compressibility(ext: string, mimeType: string): { compress: boolean; sure: boolean } {
  ext = ext.toLowerCase();
  const semi = mimeType.indexOf(";");
  const type = (semi >= 0 ? mimeType.slice(0, semi).trim() : mimeType).toLowerCase();
  const yes = { compress: true, sure: true };
  const no = { compress: false, sure: true };
  if (type.startsWith("text/")) return yes;
  if (ext === ".svg" || ext === ".bmp" || ext === ".wav") return yes;
  if (type.startsWith("image/")) return no;
  if (COMPRESSED_EXTS.has(ext)) return no;
  if (TEXT_EXTS.has(ext)) return yes;
  if (type.startsWith("application/")) {
    if (type.endsWith("zstd")) return no;
    if (type.endsWith("xml") || type.endsWith("script") || type.endsWith("json")) return yes;
    if (type.endsWith("vnd.rar")) return no;
  }
  if (type.startsWith("audio/") && WAVE_SUBTYPES.has(type.slice("audio/".length))) return yes;
  return { compress: false, sure: false };
}

/**
 * weed's own gzip of a compressible upload: fastest level, kept only when it saves more than 10%
 * (compressed * 10 < original * 9). Undefined when not worth it.
 */
export async function gzipIfSmaller(data: Buffer): Promise<Buffer | undefined> {
  let zipped: Buffer;
  try {
    zipped = await gzipAsync(data, { level: constants.Z_BEST_SPEED });
  } catch {
    return undefined;
  }
  return zipped.length * 10 < data.length * 9 ? zipped : undefined;
}

export function md5Base64(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}

/**
 * The size (and, when asked, the base64 MD5) of what a gzipped upload inflates to, streamed so a
 * small upload cannot make the server hold its inflated size. Undefined when it does not inflate.
 */
export async function measureGunzip(
  data: Buffer,
  withMd5: boolean,
): Promise<{ size: number; md5: string } | undefined> {
  const hash = withMd5 ? createHash("md5") : undefined;
  const gunzip = createGunzip();
  let size = 0;
  const done = new Promise<void>((resolve, reject) => {
    gunzip.on("data", (chunk: Buffer) => {
      size += chunk.length;
      hash?.update(chunk);
    });
    gunzip.on("end", resolve);
    gunzip.on("error", reject);
  });
  gunzip.end(data);
  try {
    await done;
  } catch {
    return undefined;
  }
  // zlib stops quietly at zero padding after the last member; Go's reader fails on it.
  if (gunzip.bytesWritten !== data.length) return undefined;
  return { size, md5: hash ? hash.digest("base64") : "" };
}

/** GZIP's magic bytes (weed's IsGzippedContent). */
export function looksGzipped(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

// ---- pairs ----

/** Pairs of more JSON bytes than this are not stored at all (the needle keeps a 16-bit length). */
export const MAX_PAIRS_JSON = 65535;

const HEX = "0123456789abcdef";

/** A string as Go's encoding/json writes it: HTML-safe, U+2028/9 escaped, \b \f \n \r \t short. */
function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&") out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else if (c >= 0xd800 && c <= 0xdfff)
      out += "\\ufffd"; // a lone surrogate: not UTF-8
    else out += ch;
  }
  return `${out}"`;
}

/**
 * The pairs as weed stores them: a JSON object, keys in byte order, written as Go writes it.
 * Undefined when there are none or the JSON is too large to keep (then weed keeps no pairs).
 */
export function pairsJson(pairs: Record<string, string>): Buffer | undefined {
  const keys = Object.keys(pairs);
  if (keys.length === 0) return undefined;
  keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const json = Buffer.from(`{${keys.map((k) => `${goJsonString(k)}:${goJsonString(pairs[k]!)}`).join(",")}}`);
  return json.length <= MAX_PAIRS_JSON ? json : undefined;
}
