// What a volume server learns from the master's GetMasterConfiguration (weed's checkWithMaster):
// the tier backends configured in the master's master.toml ([storage.backend.<type>.<id>]).

import { loadStorageBackends } from "../storage/backend/backends.js";
import { log } from "../util/log.js";
import { type PeerClients, unaryCall } from "./clients.js";

export async function learnStorageBackends(peers: PeerClients, master: string): Promise<void> {
  try {
    const client = peers.master(master);
    const answer = await unaryCall(
      client.getMasterConfiguration.bind(client),
      {},
      { deadline: Date.now() + 10_000 },
    );
    loadStorageBackends(answer.storageBackends);
  } catch (err) {
    log.warn(`get master ${master} configuration: ${(err as Error).message}`);
  }
}
