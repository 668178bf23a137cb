// Serving and pushing the metrics: /metrics on -metricsIp:-metricsPort (as weed's
// StartMetricsServer), the push gateway loop at the address and interval the master's
// configuration names (GetMasterConfiguration, as weed's checkWithMaster and LoopPushingMetric).

import { createServer, type Server } from "node:http";
import { log } from "../util/log.js";
import type { VolumeMetrics } from "./volume-metrics.js";

export function serveMetrics(metrics: VolumeMetrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404).end("404 page not found\n");
      return;
    }
    metrics.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: host || undefined, port }, () => resolve(server));
  });
}

/** Pushes to a Prometheus push gateway, started once the master names one. */
export class MetricsPusher {
  private timer: NodeJS.Timeout | undefined;
  private target = "";

  constructor(
    private readonly metrics: VolumeMetrics,
    private readonly instance: string,
  ) {}

  /** (Re)starts pushing when the master's answer names a gateway or a new interval. */
  configure(address: string, intervalSeconds: number): void {
    const target = `${address}@${intervalSeconds}`;
    if (address === "" || intervalSeconds === 0 || target === this.target) return;
    this.stop();
    this.target = target;
    log.info(`volumeServer server sends metrics to ${address} every ${intervalSeconds} seconds`);
    const base = /^https?:\/\//.test(address) ? address : `http://${address}`;
    const url = `${base.replace(/\/$/, "")}/metrics/job/volumeServer/instance/${encodeURIComponent(this.instance)}`;
    const push = async () => {
      try {
        const response = await fetch(url, {
          method: "PUT",
          headers: { "Content-Type": this.metrics.registry.contentType },
          body: await this.metrics.metrics(),
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        if (response.status >= 300)
          log.info(`could not push metrics to prometheus push gateway ${address}: ${response.status}`);
      } catch (err) {
        log.info(`could not push metrics to prometheus push gateway ${address}: ${(err as Error).message}`);
      }
    };
    void push();
    this.timer = setInterval(push, (intervalSeconds > 0 ? intervalSeconds : 15) * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.target = "";
  }
}
