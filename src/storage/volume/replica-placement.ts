// Replica placement "xyz": x copies in other data centers, y on other racks, z on other servers of
// the same rack. Stored in one byte as the decimal number xyz.

export interface ReplicaPlacement {
  diffDataCenterCount: number;
  diffRackCount: number;
  sameRackCount: number;
}

export class ReplicaPlacementError extends Error {
  override name = "ReplicaPlacementError";
}

/**
 * "xyz" as weed reads it: shorter strings are left-padded with zeros, characters past the third are
 * only checked for being at or above '0', and the value x*100+y*10+z must fit in a byte.
 */
export function parseReplicaPlacement(text: string): ReplicaPlacement {
  const t = text.length >= 3 ? text : text.padStart(3, "0");
  const counts = [0, 0, 0];
  // Go ranges over runes with their byte index.
  let byteIndex = 0;
  for (const ch of t) {
    const c = ch.codePointAt(0)! - 48;
    if (c < 0) throw new ReplicaPlacementError(`unknown replication type: ${t}`);
    if (byteIndex < 3) counts[byteIndex] = c;
    byteIndex += Buffer.byteLength(ch);
  }
  const [dc, rack, same] = counts as [number, number, number];
  if (dc * 100 + rack * 10 + same > 255) throw new ReplicaPlacementError(`unexpected replication type: ${t}`);
  return { diffDataCenterCount: dc, diffRackCount: rack, sameRackCount: same };
}

export function replicaPlacementFromByte(b: number): ReplicaPlacement {
  return {
    diffDataCenterCount: Math.floor(b / 100),
    diffRackCount: Math.floor(b / 10) % 10,
    sameRackCount: b % 10,
  };
}

export function replicaPlacementByte(rp: ReplicaPlacement): number {
  return (rp.diffDataCenterCount * 100 + rp.diffRackCount * 10 + rp.sameRackCount) & 0xff;
}

/** Three characters, each count plus '0' (a count over 9 gives a character past '9', as in weed). */
export function formatReplicaPlacement(rp: ReplicaPlacement): string {
  return String.fromCharCode(
    (rp.diffDataCenterCount + 48) & 0xff,
    (rp.diffRackCount + 48) & 0xff,
    (rp.sameRackCount + 48) & 0xff,
  );
}

/** Copies of each needle, this one included. */
export function copyCount(rp: ReplicaPlacement): number {
  return rp.diffDataCenterCount + rp.diffRackCount + rp.sameRackCount + 1;
}

export function hasReplication(rp: ReplicaPlacement): boolean {
  return copyCount(rp) > 1;
}
