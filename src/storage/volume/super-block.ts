// The super block: the first 8 bytes of every .dat, plus an optional protobuf "extra" after them.
//   version(1) replica placement(1) ttl(2) compaction revision(2) extra size(2)

import { type Ttl, ttlFromBytes } from "../needle/ttl.js";
import { isSupportedVersion, SUPER_BLOCK_SIZE, type Version } from "../types.js";
import {
  type ReplicaPlacement,
  replicaPlacementByte,
  replicaPlacementFromByte,
} from "./replica-placement.js";

export interface SuperBlock {
  version: Version;
  replicaPlacement: ReplicaPlacement;
  ttl: Ttl;
  compactionRevision: number;
  /** Raw SuperBlockExtra protobuf bytes, kept as they are. */
  extra: Buffer;
}

export function superBlockSize(sb: SuperBlock): number {
  return sb.version === 1 ? SUPER_BLOCK_SIZE : SUPER_BLOCK_SIZE + sb.extra.length;
}

export function encodeSuperBlock(sb: SuperBlock): Buffer {
  const header = Buffer.alloc(SUPER_BLOCK_SIZE);
  header[0] = sb.version;
  header[1] = replicaPlacementByte(sb.replicaPlacement);
  header[2] = sb.ttl.count;
  header[3] = sb.ttl.unit;
  header.writeUInt16BE(sb.compactionRevision & 0xffff, 4);
  if (sb.extra.length === 0) return header;
  if (sb.extra.length > 256 * 256 - 2)
    throw new Error(`super block extra size ${sb.extra.length} is too big`);
  header.writeUInt16BE(sb.extra.length, 6);
  return Buffer.concat([header, sb.extra]);
}

/** Parses the first 8 bytes; `readExtra` fetches the extra bytes when the header announces some. */
export function decodeSuperBlock(header: Buffer, readExtra: (length: number) => Buffer): SuperBlock {
  if (header.length < SUPER_BLOCK_SIZE) throw new Error("cannot read volume super block: unexpected EOF");
  const version = header[0]!;
  if (!isSupportedVersion(version)) throw new Error(`unsupported volume version ${version}`);
  const extraSize = header.readUInt16BE(6);
  const extra = extraSize > 0 ? readExtra(extraSize) : Buffer.alloc(0);
  if (extra.length !== extraSize) throw new Error("cannot read volume super block extra: unexpected EOF");
  return {
    version,
    replicaPlacement: replicaPlacementFromByte(header[1]!),
    ttl: ttlFromBytes(header, 2),
    compactionRevision: header.readUInt16BE(4),
    extra,
  };
}
