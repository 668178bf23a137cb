// What a volume server learns from the master's GetMasterConfiguration (weed's checkWithMaster):
// the tier backends configured in the master's master.toml ([storage.backend.<type>.<id>]).

import { loadStorageBackends } from "../storage/backend/backends.js";
import { log } from "../util/log.js";
import { type PeerClients, unaryCall } from "./clients.js";

export async function learnStorageBackends(peers: PeerClients, master: string): Promise<boolean> {
  try {
    const client = peers.master(master);
    const answer = await unaryCall(
      client.getMasterConfiguration.bind(client),
      {},
      { deadline: Date.now() + 10_000 },
    );
    loadStorageBackends(answer.storageBackends);
    return true;
  } catch (err) {
    log.warn(`get master ${master} configuration: ${(err as Error).message}`);
    return false;
  }
}

/**
 * Before tiered volumes can load, their backends must be known: asks the seed masters in turn
 * (weed waits until one answers; this gives up after a few rounds and the tiered volumes fail).
 */
export async function learnStorageBackendsAtStart(peers: PeerClients, masters: string[]): Promise<void> {
  for (let round = 0; round < 5; round++) {
    for (const master of masters) if (await learnStorageBackends(peers, master)) return;
    await new Promise((r) => setTimeout(r, 1790));
  }
}
