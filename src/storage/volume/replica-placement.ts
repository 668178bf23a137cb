// Replica placement "xyz": x copies in other data centers, y on other racks, z on other servers of
// the same rack. Stored in one byte as the decimal number xyz.

export interface ReplicaPlacement {
  diffDataCenterCount: number;
  diffRackCount: number;
  sameRackCount: number;
}

export class ReplicaPlacementError extends Error {}

export function parseReplicaPlacement(text: string): ReplicaPlacement {
  const t = text.length >= 3 ? text : text.padStart(3, "0");
  const counts = [0, 0, 0];
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i) - 48;
    if (c < 0) throw new ReplicaPlacementError(`unknown replication type: ${t}`);
    if (i < 3) counts[i] = c;
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

export function formatReplicaPlacement(rp: ReplicaPlacement): string {
  return `${rp.diffDataCenterCount}${rp.diffRackCount}${rp.sameRackCount}`;
}

/** Copies of each needle, this one included. */
export function copyCount(rp: ReplicaPlacement): number {
  return rp.diffDataCenterCount + rp.diffRackCount + rp.sameRackCount + 1;
}

export function hasReplication(rp: ReplicaPlacement): boolean {
  return copyCount(rp) > 1;
}
