// weed's concurrentUploadLimitMB / concurrentDownloadLimitMB: bytes in flight are counted, and a
// request arriving while the count is over the limit waits for room up to the inflight timeout,
// then gets 429 (or 499 when the client went away meanwhile).

import type { IncomingMessage } from "node:http";

export class InflightLimiter {
  bytes = 0;
  private waiters = new Set<() => void>();

  constructor(
    readonly limit: number,
    readonly timeoutMs: number,
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  over(): boolean {
    return this.limit > 0 && this.bytes > this.limit;
  }

  add(n: number): void {
    this.bytes += n;
  }

  release(n: number): void {
    this.bytes -= n;
    for (const wake of this.waiters) wake();
  }

  /** Waits until the count is back under the limit: "ok", "timeout" or "cancelled". */
  waitForRoom(req: IncomingMessage): Promise<"ok" | "timeout" | "cancelled"> {
    if (!this.over()) return Promise.resolve("ok");
    return new Promise((resolve) => {
      const finish = (outcome: "ok" | "timeout" | "cancelled") => {
        clearTimeout(timer);
        this.waiters.delete(check);
        req.socket.off("close", onClose);
        resolve(outcome);
      };
      const check = () => {
        if (!this.over()) finish("ok");
      };
      const onClose = () => finish("cancelled");
      const timer = setTimeout(() => finish("timeout"), this.timeoutMs);
      this.waiters.add(check);
      req.socket.once("close", onClose);
    });
  }
}
