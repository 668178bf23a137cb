// Who may write: a white list of IPs and CIDR ranges (-whiteList plus security.toml's
// guard.white_list) and the JWT signing keys. An empty white list lets everyone through, as weed's.

import { BlockList, isIP } from "node:net";
import { log } from "../util/log.js";

export interface SigningKeys {
  writeKey: string;
  writeExpiresAfterSeconds: number;
  readKey: string;
  readExpiresAfterSeconds: number;
}

export class Guard {
  private exact = new Set<string>();
  private ranges = new BlockList();
  private emptyWhiteList = true;

  constructor(
    whiteList: string[],
    public keys: SigningKeys,
  ) {
    this.updateWhiteList(whiteList);
  }

  updateWhiteList(entries: string[]): void {
    const exact = new Set<string>();
    const ranges = new BlockList();
    let count = 0;
    for (const entry of entries) {
      if (!entry.includes("/")) {
        exact.add(entry);
        count++;
        continue;
      }
      const [network, bits] = entry.split("/") as [string, string];
      const family = isIP(network);
      const prefix = Number(bits);
      if (family === 0 || !Number.isInteger(prefix)) {
        log.error(`Parse CIDR ${entry} in whitelist failed`);
        continue;
      }
      ranges.addSubnet(network, prefix, family === 4 ? "ipv4" : "ipv6");
      count++;
    }
    this.exact = exact;
    this.ranges = ranges;
    this.emptyWhiteList = count === 0;
  }

  /** Checks apply once there is a white list or a write signing key. */
  get active(): boolean {
    return !this.emptyWhiteList || this.keys.writeKey !== "";
  }

  isWhiteListed(host: string): boolean {
    if (!this.active || this.emptyWhiteList) return true;
    if (this.exact.has(host)) return true;
    const family = isIP(host);
    return family !== 0 && this.ranges.check(host, family === 4 ? "ipv4" : "ipv6");
  }
}

/** The client's address without port or brackets, IPv4-mapped IPv6 shown as IPv4. */
export function remoteHost(address: string | undefined): string {
  let host = (address ?? "").trim();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host.startsWith("::ffff:") && isIP(host.slice(7)) === 4) host = host.slice(7);
  return host;
}
