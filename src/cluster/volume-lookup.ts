// Where a volume lives, asked of the master (master_pb.Seaweed/LookupVolume) and kept for a short
// while, so proxied reads and replicated writes do not ask on every request.

import { Metadata } from "@grpc/grpc-js";
import { type Location, LookupVolumeRequest } from "../pb/master.js";
import type { PeerClients } from "./clients.js";

const CACHE_MS = 10_000;

/** The master answered, and knows no server holding the volume. */
export class VolumeNotLocated extends Error {}

export class VolumeLookup {
  private readonly cache = new Map<number, { locations: Location[]; expires: number }>();

  constructor(
    private readonly peers: PeerClients,
    private readonly currentMaster: () => string,
  ) {}

  invalidate(volumeId: number): void {
    this.cache.delete(volumeId);
  }

  /**
   * The servers holding a volume; throws when the master cannot be asked or does not know it.
   * `fresh` skips the cache (replicated writes and deletes ask the master each time, as weed does,
   * so a replica that just went down is not written to from a stale list).
   */
  async locations(volumeId: number, fresh = false): Promise<Location[]> {
    const cached = fresh ? undefined : this.cache.get(volumeId);
    if (cached && cached.expires > Date.now()) return cached.locations;
    const master = this.currentMaster();
    if (!master) throw new Error("no master to look up volumes");
    const response = await new Promise<Awaited<ReturnType<typeof decodeLocations>>>((resolve, reject) => {
      this.peers
        .master(master)
        .lookupVolume(
          LookupVolumeRequest.create({ volumeOrFileIds: [String(volumeId)] }),
          new Metadata(),
          { deadline: Date.now() + 10_000 },
          (err, res) => (err ? reject(err) : resolve(decodeLocations(res.volumeIdLocations))),
        );
    });
    const found = response.find((r) => r.volumeOrFileId === String(volumeId));
    if (!found || found.error) throw new VolumeNotLocated(found?.error || `volume ${volumeId} not found`);
    if (found.locations.length > 0)
      this.cache.set(volumeId, { locations: found.locations, expires: Date.now() + CACHE_MS });
    return found.locations;
  }
}

function decodeLocations(list: { volumeOrFileId: string; locations: Location[]; error: string }[]) {
  return list;
}
