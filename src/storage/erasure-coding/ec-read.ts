// Reading a needle of an EC volume: its record's .dat range is mapped onto the data shards; each
// piece comes from the local shard when mounted, else from a peer holding it (`fetch`), else is
// rebuilt from any dataShards other shards' bytes at the same offsets (local or fetched).

import { type Needle, parseNeedle } from "../needle/needle.js";
import { actualSize } from "../types.js";
import type { EcVolume } from "./ec-volume.js";
import { locateData, type ShardInterval } from "./layout.js";
import { ReedSolomon } from "./reed-solomon/index.js";

/** Bytes of a shard held elsewhere, or undefined when no peer could give them. */
export type ShardFetcher = (shard: number, offset: number, size: number) => Promise<Buffer | undefined>;

export class EcNeedleNotFound extends Error {}
export class EcNeedleDeleted extends Error {}

const codecs = new Map<string, ReedSolomon>();
function codecFor(v: EcVolume): ReedSolomon {
  const key = `${v.geometry.dataShards}+${v.geometry.parityShards}`;
  let codec = codecs.get(key);
  if (!codec) {
    codec = new ReedSolomon(v.geometry.dataShards, v.geometry.parityShards);
    codecs.set(key, codec);
  }
  return codec;
}

/** A piece's bytes from this shard: local, else fetched; undefined when unavailable. */
async function shardBytes(
  v: EcVolume,
  shard: number,
  offset: number,
  size: number,
  fetch?: ShardFetcher,
): Promise<Buffer | undefined> {
  if (v.shards.has(shard)) {
    const local = v.readShard(shard, offset, size);
    if (local.length === size) return local;
  }
  const remote = await fetch?.(shard, offset, size).catch(() => undefined);
  return remote && remote.length === size ? remote : undefined;
}

/** Rebuilds the piece of a missing shard from the others' bytes at the same offset. */
export async function recoverInterval(
  v: EcVolume,
  piece: ShardInterval,
  fetch?: ShardFetcher,
): Promise<Buffer> {
  const total = v.totalShards;
  const shards: (Uint8Array | undefined)[] = new Array(total).fill(undefined);
  const present: boolean[] = new Array(total).fill(false);
  let have = 0;
  // Local shards first (cheap), then peers, until enough.
  const order = [...Array(total).keys()].filter((i) => i !== piece.shard);
  order.sort((a, b) => Number(!v.shards.has(a)) - Number(!v.shards.has(b)));
  for (const i of order) {
    if (have >= v.geometry.dataShards) break;
    const bytes = await shardBytes(v, i, piece.offset, piece.size, v.shards.has(i) ? undefined : fetch);
    if (!bytes) continue;
    shards[i] = bytes;
    present[i] = true;
    have++;
  }
  if (have < v.geometry.dataShards) {
    throw new Error(
      `ec volume ${v.id}: cannot recover shard ${piece.shard}: only ${have} of ${v.geometry.dataShards} shards available`,
    );
  }
  codecFor(v).reconstructData(shards, present);
  const out = shards[piece.shard]!;
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

/** The raw bytes of `size` bytes at `offset` of the volume's .dat. */
export async function readEcRange(
  v: EcVolume,
  offset: number,
  size: number,
  fetch?: ShardFetcher,
): Promise<Buffer> {
  const pieces = locateData(v.geometry, v.shardSize(), offset, size);
  const parts: Buffer[] = [];
  for (const piece of pieces) {
    const direct = await shardBytes(v, piece.shard, piece.offset, piece.size, fetch);
    parts.push(direct ?? (await recoverInterval(v, piece, fetch)));
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Reads and parses (CRC checked) the needle `id`; throws EcNeedleNotFound / EcNeedleDeleted. */
export async function readEcNeedle(v: EcVolume, id: bigint, fetch?: ShardFetcher): Promise<Needle> {
  const found = v.findNeedle(id);
  if (!found) throw new EcNeedleNotFound(`needle ${id.toString(16)} not found`);
  if (found.size < 0) throw new EcNeedleDeleted(`needle ${id.toString(16)} deleted`);
  const record = await readEcRange(v, found.offset, actualSize(found.size, v.version), fetch);
  return parseNeedle(record, v.version, found.size);
}
