// Turning an EC volume back into a normal one (weed's ec_decoder.go): the .dat is the data shards'
// bytes in layout order up to the end of the last live record, and the .idx is the .ecx followed by
// a tombstone entry for every needle in the .ecj.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { encodeIndexEntry } from "../index/idx.js";
import { keyFromBigInt } from "../needle/needle-id.js";
import { actualSize, SUPER_BLOCK_SIZE, TOMBSTONE_FILE_SIZE, type Version } from "../types.js";
import { readAt } from "../volume/files.js";
import type { EcVolume } from "./ec-volume.js";
import { locateData } from "./layout.js";

/** Phrase weed puts in the error for a volume whose every needle is deleted. */
export const NO_LIVE_ENTRIES = "has no live entries";

const CHUNK = 4 * 1024 * 1024;

/** The live needles the .ecx lists, less those the journal deletes. */
export function liveNeedleCount(v: EcVolume): number {
  let live = 0;
  v.walkIndex((_id, _offset, size) => {
    if (size >= 0) live++;
  });
  return live;
}

/** The .dat length: past the end of the last live record, at least the super block. */
export function decodedDatSize(v: EcVolume, version: Version): number {
  let end = SUPER_BLOCK_SIZE;
  v.walkIndex((_id, offset, size) => {
    if (size >= 0) end = Math.max(end, offset + actualSize(size, version));
  });
  return end;
}

/** The volume's version from the super block at the start of shard 0. */
export function shardVersion(shard0Path: string): Version {
  const fd = openSync(shard0Path, "r");
  try {
    return readAt(fd, 1, 0)[0] as Version;
  } finally {
    closeSync(fd);
  }
}

/** Writes <dataBase>.dat from the data shard files (paths indexed by shard id). */
export async function writeDatFromShards(
  v: EcVolume,
  dataShardPaths: string[],
  datSize: number,
  dataBase: string,
): Promise<void> {
  const handles = await Promise.all(dataShardPaths.map((p) => open(p, "r")));
  const out = await open(`${dataBase}.dat`, "w", 0o644);
  try {
    const shardSize = (await handles[0]!.stat()).size;
    const buf = Buffer.allocUnsafe(CHUNK);
    let position = 0;
    for (const piece of locateData(v.geometry, shardSize, 0, datSize)) {
      for (let done = 0; done < piece.size; ) {
        const n = Math.min(CHUNK, piece.size - done);
        const { bytesRead } = await handles[piece.shard]!.read(buf, 0, n, piece.offset + done);
        // Past a shard's end the encoder padded with zeros.
        buf.fill(0, bytesRead, n);
        await out.write(buf, 0, n, position);
        position += n;
        done += n;
      }
    }
    await out.sync();
  } finally {
    await out.close();
    for (const h of handles) await h.close();
  }
}

/** Writes <indexBase>.idx: the .ecx, then a tombstone per journalled delete; atomically. */
export function writeIdxFromEcIndex(v: EcVolume, indexBase: string): void {
  const tmp = `${indexBase}.idx.tmp`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, readFileSync(`${indexBase}.ecx`));
    for (const id of v.deleted) {
      const { hi, lo } = keyFromBigInt(id);
      writeSync(fd, encodeIndexEntry(v.width, hi, lo, 0, TOMBSTONE_FILE_SIZE));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, `${indexBase}.idx`);
}
