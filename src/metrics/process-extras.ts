// The process_* metrics Go's process collector exports that prom-client's defaults do not:
// network bytes of the process's network namespace and the address-space limit (Linux only; the
// gauges are simply absent elsewhere), so dashboards built on weed's metrics keep working.

import { readFileSync } from "node:fs";
import { Gauge, type Registry } from "prom-client";

function netDevTotals(): { receive: number; transmit: number } | undefined {
  try {
    let receive = 0;
    let transmit = 0;
    // "  eth0: rxbytes rxpackets ... (8 receive fields) txbytes ..."
    for (const line of readFileSync("/proc/self/net/dev", "utf8").split("\n").slice(2)) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const fields = line
        .slice(colon + 1)
        .trim()
        .split(/\s+/)
        .map(Number);
      receive += fields[0] ?? 0;
      transmit += fields[8] ?? 0;
    }
    return { receive, transmit };
  } catch {
    return undefined;
  }
}

function addressSpaceLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max address space"));
    const soft = line?.slice("Max address space".length).trim().split(/\s+/)[0];
    if (soft === undefined) return undefined;
    return soft === "unlimited" ? -1 : Number(soft);
  } catch {
    return undefined;
  }
}

export function registerProcessExtras(registry: Registry): void {
  if (process.platform !== "linux") return;
  const registers = [registry];
  new Gauge({
    name: "process_network_receive_bytes_total",
    help: "Number of bytes received by the process over the network.",
    registers,
    collect() {
      const t = netDevTotals();
      if (t) this.set(t.receive);
    },
  });
  new Gauge({
    name: "process_network_transmit_bytes_total",
    help: "Number of bytes sent by the process over the network.",
    registers,
    collect() {
      const t = netDevTotals();
      if (t) this.set(t.transmit);
    },
  });
  new Gauge({
    name: "process_virtual_memory_max_bytes",
    help: "Maximum amount of virtual memory available in bytes.",
    registers,
    collect() {
      const limit = addressSpaceLimit();
      if (limit !== undefined) this.set(limit);
    },
  });
}
