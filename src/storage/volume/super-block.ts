// The super block: the first 8 bytes of every .dat, plus an optional protobuf "extra" after them.
//   version(1) replica placement(1) ttl(2) compaction revision(2) extra size(2)

import { type Ttl, ttlFromBytes } from "../needle/ttl.js";
import { isSupportedVersion, SUPER_BLOCK_SIZE, type Version } from "../types.js";
import {
  type ReplicaPlacement,
  replicaPlacementByte,
  replicaPlacementFromByte,
} from "./replica-placement.js";

/** A super block that cannot be read or written: bad bytes on disk or an impossible value. */
export class SuperBlockError extends Error {
  override name = "SuperBlockError";
}

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
    throw new SuperBlockError(`super block extra size ${sb.extra.length} is too big`);
  header.writeUInt16BE(sb.extra.length, 6);
  return Buffer.concat([header, sb.extra]);
}

/** Parses the first 8 bytes; `readExtra` fetches the extra bytes when the header announces some. */
export function decodeSuperBlock(header: Buffer, readExtra: (length: number) => Buffer): SuperBlock {
  if (header.length < SUPER_BLOCK_SIZE)
    throw new SuperBlockError("cannot read volume super block: unexpected EOF");
  const version = header[0]!;
  if (!isSupportedVersion(version)) throw new SuperBlockError(`unsupported volume version ${version}`);
  const extraSize = header.readUInt16BE(6);
  const extra = extraSize > 0 ? readExtra(extraSize) : Buffer.alloc(0);
  if (extra.length !== extraSize)
    throw new SuperBlockError("cannot read volume super block extra: unexpected EOF");
  if (!isWellFormedProtobuf(extra)) {
    throw new SuperBlockError(
      "cannot unmarshal volume super block extra: proto: cannot parse invalid wire-format data",
    );
  }
  return {
    version,
    replicaPlacement: replicaPlacementFromByte(header[1]!),
    ttl: ttlFromBytes(header, 2),
    compactionRevision: header.readUInt16BE(4),
    extra,
  };
}

/** Reads a varint at `at`; returns the position after it, or -1 when truncated or too long. */
function skipVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= buf.length) return [-1, 0];
    const b = buf[at++]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return [at, value];
  }
  return [-1, 0];
}

/**
 * The extra is kept as raw bytes, but like weed we refuse bytes that are not protobuf at all:
 * every field must have a valid tag and wire type and fit in the buffer.
 */
export function isWellFormedProtobuf(buf: Buffer): boolean {
  let at = 0;
  while (at < buf.length) {
    const [next, tag] = skipVarint(buf, at);
    if (next < 0 || tag < 8) return false;
    at = next;
    switch (tag % 8) {
      case 0: {
        const [after] = skipVarint(buf, at);
        if (after < 0) return false;
        at = after;
        break;
      }
      case 1:
        at += 8;
        break;
      case 2: {
        const [after, length] = skipVarint(buf, at);
        if (after < 0) return false;
        at = after + length;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        return false; // groups (3, 4) are not used by SuperBlockExtra; 6 and 7 do not exist
    }
    if (at > buf.length) return false;
  }
  return true;
}
