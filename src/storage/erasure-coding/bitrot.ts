// The bitrot sidecar <base>.ecsum that weed writes beside the shards: a CRC-32C for every 16 MiB
// block of every shard, so silent corruption is caught before a decode trusts the bytes. Layout:
// magic "ECSU" (4), format version 1 (2), payload length (4), payload CRC-32C (4), all big-endian,
// then the EcBitrotProtection message. Block CRCs are packed little-endian.

import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from "node:fs";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { ChecksumAlgorithm, EcBitrotProtection } from "../../pb/volume_server.js";
import { needleCrc } from "../needle/crc.js";
import { BITROT_BLOCK_SIZE, type ShardBlockCrcs } from "./block-crcs.js";
import type { EcGeometry } from "./layout.js";

export { SIDECAR_EXT } from "./block-crcs.js";

const MAGIC = 0x45435355;
const FORMAT_VERSION = 1;
const HEADER = 14;

export function buildProtection(geometry: EcGeometry, shards: ShardBlockCrcs[]): EcBitrotProtection {
  return EcBitrotProtection.create({
    algorithm: ChecksumAlgorithm.CHECKSUM_CRC32C,
    blockSize: BITROT_BLOCK_SIZE,
    generation: 0,
    ecShardConfig: {
      dataShards: geometry.dataShards,
      parityShards: geometry.parityShards,
      encodeTsNs: 0n,
      blockSize: BigInt(geometry.blockSize),
    },
    shards: shards.map(({ coveredSize, packed }, shardId) => ({
      shardId,
      coveredSize: BigInt(coveredSize),
      blockCrc32c: Buffer.from(packed.buffer, packed.byteOffset, packed.length),
    })),
    encodeUuid: randomBytes(16),
  });
}

/** Writes <dataBase>.ecsum for shards of this geometry from their block CRCs. */
export function writeSidecar(dataBase: string, geometry: EcGeometry, shards: ShardBlockCrcs[]): void {
  saveSidecar(`${dataBase}.ecsum`, buildProtection(geometry, shards));
}

export function saveSidecar(path: string, protection: EcBitrotProtection): void {
  const payload = Buffer.from(EcBitrotProtection.encode(protection).finish());
  const header = Buffer.alloc(HEADER);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt16BE(FORMAT_VERSION, 4);
  header.writeUInt32BE(payload.length, 6);
  header.writeUInt32BE(needleCrc(payload), 10);
  writeFileSync(`${path}.tmp`, Buffer.concat([header, payload]), { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

/** The sidecar at `path`, undefined when absent; throws naming what is wrong with a bad one. */
export function loadSidecar(path: string): EcBitrotProtection | undefined {
  if (!existsSync(path)) return undefined;
  const data = readFileSync(path);
  if (data.length < HEADER) throw new Error(`bitrot sidecar ${path} too short (${data.length} bytes)`);
  const magic = data.readUInt32BE(0);
  if (magic !== MAGIC) throw new Error(`bitrot sidecar ${path} bad magic 0x${magic.toString(16)}`);
  const version = data.readUInt16BE(4);
  if (version !== FORMAT_VERSION)
    throw new Error(`bitrot sidecar ${path} unsupported format version ${version}`);
  const payload = data.subarray(HEADER);
  if (data.readUInt32BE(6) !== payload.length) {
    throw new Error(
      `bitrot sidecar ${path} length mismatch: header ${data.readUInt32BE(6)}, actual ${payload.length}`,
    );
  }
  if (data.readUInt32BE(10) !== needleCrc(payload))
    throw new Error(`bitrot sidecar ${path} self-integrity CRC mismatch`);
  return EcBitrotProtection.decode(new BinaryReader(payload));
}

/** Block numbers of the shard file whose CRC differs from the sidecar's (all when its length does). */
function mismatchedBlocks(
  path: string,
  coveredSize: number,
  packed: Uint8Array,
  blockSize: number,
): number[] {
  const want = Buffer.from(packed.buffer, packed.byteOffset, packed.length);
  const count = Math.floor(want.length / 4);
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(blockSize);
    const bad: number[] = [];
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const n = Math.min(blockSize, coveredSize - offset);
      const got = readSync(fd, buf, 0, n, offset);
      if (got !== n || needleCrc(buf.subarray(0, n)) !== want.readUInt32LE(i * 4)) bad.push(i);
      offset += n;
    }
    const extra = readSync(fd, Buffer.allocUnsafe(1), 0, 1, coveredSize);
    return extra > 0 ? Array.from({ length: count }, (_, i) => i) : bad;
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks the data shard files (indexed by shard id) against the sidecar before a decode trusts
 * them; throws on a mismatch, or when the sidecar describes another layout than the volume's.
 */
export function verifyDataShards(
  protection: EcBitrotProtection,
  geometry: EcGeometry,
  volumeId: number,
  sidecarPath: string,
  dataShardPaths: string[],
): void {
  const c = protection.ecShardConfig;
  if (
    c &&
    (c.dataShards !== geometry.dataShards ||
      c.parityShards !== geometry.parityShards ||
      Number(c.blockSize) !== geometry.blockSize)
  ) {
    throw new Error(
      `ec volume ${volumeId} generation ${protection.generation}: ${sidecarPath} records layout ${c.dataShards}+${c.parityShards} block ${c.blockSize} but the volume is mounted as ${geometry.dataShards}+${geometry.parityShards} block ${geometry.blockSize}; refusing to serve one of the two layouts`,
    );
  }
  for (const [shardId, path] of dataShardPaths.entries()) {
    const entry = protection.shards.find((s) => s.shardId === shardId);
    if (!entry) continue;
    const bad = mismatchedBlocks(path, Number(entry.coveredSize), entry.blockCrc32c, protection.blockSize);
    if (bad.length > 0) {
      throw new Error(`data shard ${shardId} ${path} fails its bitrot checksum in ${bad.length} blocks`);
    }
  }
}
