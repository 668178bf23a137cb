// What a volume server learns from the master's GetMasterConfiguration (weed's checkWithMaster):
// the tier backends configured in the master's master.toml ([storage.backend.<type>.<id>]), and
// the metrics push gateway (returned for the caller).

import type { GetMasterConfigurationResponse } from "../pb/master.js";
import { loadStorageBackends } from "../storage/backend/backends.js";
import { log } from "../util/log.js";
import { type PeerClients, unaryCall } from "./clients.js";

/** Asks the master for its configuration and records its tier backends; undefined on failure. */
export async function checkWithMaster(
  peers: PeerClients,
  master: string,
): Promise<GetMasterConfigurationResponse | undefined> {
  try {
    const client = peers.master(master);
    const answer = await unaryCall(
      client.getMasterConfiguration.bind(client),
      {},
      { deadline: Date.now() + 10_000 },
    );
    loadStorageBackends(answer.storageBackends);
    return answer;
  } catch (err) {
    log.warn(`get master ${master} configuration: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Before tiered volumes can load, their backends must be known: asks the seed masters in turn
 * (weed waits until one answers; this gives up after a few rounds and the tiered volumes fail).
 */
export async function learnStorageBackendsAtStart(peers: PeerClients, masters: string[]): Promise<void> {
  for (let round = 0; round < 5; round++) {
    for (const master of masters) if (await checkWithMaster(peers, master)) return;
    await new Promise((r) => setTimeout(r, 1790));
  }
}
