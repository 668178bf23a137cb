// .vif files: the VolumeInfo message as protojson (lowerCamelCase names, 64-bit integers as strings,
// every field present), written atomically. They record the index offset width, read-only state,
// the remote tier's files and EC settings.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface RemoteFile {
  backendType: string;
  backendId: string;
  key: string;
  offset: number;
  fileSize: number;
  modifiedTime: number;
  extension: string;
}

export interface EcShardConfig {
  dataShards: number;
  parityShards: number;
  encodeTsNs: bigint;
  blockSize: number;
}

export interface VolumeInfo {
  files: RemoteFile[];
  version: number;
  replication: string;
  bytesOffset: number;
  datFileSize: number;
  expireAtSec: number;
  readOnly: boolean;
  ecShardConfig: EcShardConfig | null;
  readOnlyCanDelete: boolean;
}

export function emptyVolumeInfo(): VolumeInfo {
  return {
    files: [],
    version: 0,
    replication: "",
    bytesOffset: 0,
    datFileSize: 0,
    expireAtSec: 0,
    readOnly: false,
    ecShardConfig: null,
    readOnlyCanDelete: false,
  };
}

/** A .vif that is not the VolumeInfo message protojson writes. */
export class VolumeInfoError extends Error {
  override name = "VolumeInfoError";
}

type Json = Record<string, unknown>;

/** protojson accepts the json name and the proto field name. */
function field(obj: Json, jsonName: string, protoName: string): unknown {
  return obj[jsonName] ?? obj[protoName];
}

/** protojson integers: a JSON number or a decimal string. */
function num(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^-?[0-9]+$/.test(v)) return Number(v);
  throw new VolumeInfoError(`invalid value for an integer field: ${JSON.stringify(v)}`);
}

function str(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string")
    throw new VolumeInfoError(`invalid value for a string field: ${JSON.stringify(v)}`);
  return v;
}

/** An int64 that must stay exact (nanoseconds): number or decimal string. */
function bigNum(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^-?[0-9]+$/.test(v)) return BigInt(v);
  throw new VolumeInfoError(`invalid value for an integer field: ${JSON.stringify(v)}`);
}

function bool(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean")
    throw new VolumeInfoError(`invalid value for a bool field: ${JSON.stringify(v)}`);
  return v;
}

function parseRemoteFile(value: unknown): RemoteFile {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new VolumeInfoError(`invalid value for a RemoteFile: ${JSON.stringify(value)}`);
  const f = value as Json;
  return {
    backendType: str(field(f, "backendType", "backend_type")),
    backendId: str(field(f, "backendId", "backend_id")),
    key: str(f["key"]),
    offset: num(f["offset"]),
    fileSize: num(field(f, "fileSize", "file_size")),
    modifiedTime: num(field(f, "modifiedTime", "modified_time")),
    extension: str(f["extension"]),
  };
}

/** Parses a .vif's text; throws VolumeInfoError for anything that is not a VolumeInfo. */
export function parseVolumeInfo(text: string): VolumeInfo {
  let obj: Json;
  try {
    obj = JSON.parse(text) as Json;
  } catch (err) {
    throw new VolumeInfoError((err as Error).message);
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj))
    throw new VolumeInfoError("volume info is not an object");
  const info = emptyVolumeInfo();
  const files = obj["files"];
  if (Array.isArray(files)) info.files = files.map(parseRemoteFile);
  info.version = num(obj["version"]);
  info.replication = str(obj["replication"]);
  // Old files spell it "BytesOffset" and "DestroyTime".
  info.bytesOffset = num(obj["bytesOffset"] ?? obj["bytes_offset"] ?? obj["BytesOffset"]);
  info.datFileSize = num(field(obj, "datFileSize", "dat_file_size"));
  info.expireAtSec = num(obj["expireAtSec"] ?? obj["expire_at_sec"] ?? obj["DestroyTime"]);
  info.readOnly = bool(field(obj, "readOnly", "read_only"));
  info.readOnlyCanDelete = bool(field(obj, "readOnlyCanDelete", "read_only_can_delete"));
  const ec = field(obj, "ecShardConfig", "ec_shard_config") as Json | null | undefined;
  if (ec && typeof ec === "object") {
    info.ecShardConfig = {
      dataShards: num(field(ec, "dataShards", "data_shards")),
      parityShards: num(field(ec, "parityShards", "parity_shards")),
      encodeTsNs: bigNum(field(ec, "encodeTsNs", "encode_ts_ns")),
      blockSize: num(field(ec, "blockSize", "block_size")),
    };
  }
  return info;
}

/** The JSON weed writes (protojson, every field emitted, two-space indent). */
export function formatVolumeInfo(info: VolumeInfo): string {
  const out = {
    files: info.files.map((f) => ({
      backendType: f.backendType,
      backendId: f.backendId,
      key: f.key,
      offset: String(f.offset),
      fileSize: String(f.fileSize),
      modifiedTime: String(f.modifiedTime),
      extension: f.extension,
    })),
    version: info.version,
    replication: info.replication,
    bytesOffset: info.bytesOffset,
    datFileSize: String(info.datFileSize),
    expireAtSec: String(info.expireAtSec),
    readOnly: info.readOnly,
    ecShardConfig: info.ecShardConfig && {
      dataShards: info.ecShardConfig.dataShards,
      parityShards: info.ecShardConfig.parityShards,
      encodeTsNs: String(info.ecShardConfig.encodeTsNs),
      blockSize: String(info.ecShardConfig.blockSize),
    },
    readOnlyCanDelete: info.readOnlyCanDelete,
  };
  return JSON.stringify(out, null, 2);
}

/**
 * Reads a .vif. Missing or empty means "no info" (undefined); unreadable or malformed is an error
 * naming the file.
 */
export function loadVolumeInfo(path: string): VolumeInfo | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  if (text.trim() === "") return undefined;
  try {
    return parseVolumeInfo(text);
  } catch (err) {
    throw new Error(`unmarshal ${path}: ${(err as Error).message}`);
  }
}

/** Writes through a temporary file, fsyncs it and the directory, then renames: never half a file. */
export function saveVolumeInfo(path: string, info: VolumeInfo): void {
  const tmp = `${path}.tmp.${process.pid}`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, formatVolumeInfo(info));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
