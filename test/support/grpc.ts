// gRPC calls tests make to a volume server (ours or Go's) on 127.0.0.1.
import { credentials } from "@grpc/grpc-js";
import { VolumeServerClient } from "../../src/pb/volume_server.js";

/** Runs one call on a fresh client, closed afterwards. */
export function volumeCall<T>(
  grpcPort: number,
  run: (client: VolumeServerClient, done: (err: Error | null, value?: T) => void) => void,
): Promise<T> {
  const client = new VolumeServerClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  return new Promise<T>((resolve, reject) => {
    run(client, (err, value) => {
      client.close();
      if (err) reject(err);
      else resolve(value as T);
    });
  });
}

/** AllocateVolume with weed's defaults: no replication, no TTL, needle version 3. */
export function allocateVolume(grpcPort: number, volumeId: number, collection = ""): Promise<void> {
  return volumeCall(grpcPort, (client, done) =>
    client.allocateVolume(
      {
        volumeId,
        collection,
        preallocate: 0n,
        replication: "000",
        ttl: "",
        memoryMapMaxSizeMb: 0,
        diskType: "",
        version: 3,
      },
      (err) => done(err),
    ),
  );
}
