// The store handlers' request metrics (weed's request_total, request_seconds, in_flight_requests)
// kept in plain arrays on the hot path and handed to the Prometheus registry only when scraped:
// prom-client hashes and validates the labels of every call, which cost a read of a small needle
// several microseconds; here a request costs a few array updates.

import type { Counter, Gauge, Registry } from "prom-client";

/** The request types weed counts; anything else is INVALID. */
const TYPES = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "INVALID"] as const;
const INVALID = TYPES.length - 1;
const CODES = 600;

export function requestType(method: string | undefined): number {
  switch (method) {
    case "GET":
      return 0;
    case "HEAD":
      return 1;
    case "POST":
      return 2;
    case "PUT":
      return 3;
    case "DELETE":
      return 4;
    case "OPTIONS":
      return 5;
    default:
      return INVALID;
  }
}

/** A Prometheus histogram by `type`, bucket counts kept per type; registered as a custom metric. */
class TypeHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly counts: Float64Array;
  private readonly sums = new Float64Array(TYPES.length);
  private readonly totals = new Float64Array(TYPES.length);

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: number[],
  ) {
    this.counts = new Float64Array(TYPES.length * bounds.length);
  }

  observe(type: number, seconds: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]!) {
        this.counts[type * bounds.length + i]!++;
        break;
      }
    }
    this.sums[type]! += seconds;
    this.totals[type]!++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sums.fill(0);
    this.totals.fill(0);
  }

  get() {
    const values: {
      labels: Record<string, string | number>;
      sharedLabels: object;
      value: number;
      metricName: string;
    }[] = [];
    for (let t = 0; t < TYPES.length; t++) {
      if (this.totals[t] === 0) continue;
      const shared = { type: TYPES[t]! };
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += this.counts[t * this.bounds.length + i]!;
        values.push({
          labels: { le: this.bounds[i]! },
          sharedLabels: shared,
          value: acc,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({
        labels: { le: "+Inf" },
        sharedLabels: shared,
        value: this.totals[t]!,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels: {}, sharedLabels: shared, value: this.sums[t]!, metricName: `${this.name}_sum` });
      values.push({
        labels: {},
        sharedLabels: shared,
        value: this.totals[t]!,
        metricName: `${this.name}_count`,
      });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export class RequestTally {
  /** Requests by type and status code not yet added to the counter. */
  private readonly pending = new Uint32Array(TYPES.length * CODES);
  private readonly touched = new Set<number>();
  private readonly inFlight = new Map<string, number>();
  readonly seconds: TypeHistogram;

  constructor(registry: Registry, histogramName: string, histogramHelp: string, bounds: number[]) {
    this.seconds = new TypeHistogram(histogramName, histogramHelp, bounds);
    registry.registerMetric(this.seconds as never);
  }

  begin(method: string): void {
    this.inFlight.set(method, (this.inFlight.get(method) ?? 0) + 1);
  }

  end(method: string, type: number, status: number, seconds: number): void {
    this.inFlight.set(method, (this.inFlight.get(method) ?? 1) - 1);
    const slot = type * CODES + (status > 0 && status < CODES ? status : 0);
    const before = this.pending[slot]!;
    this.pending[slot] = before + 1;
    if (before === 0) this.touched.add(slot);
    this.seconds.observe(type, seconds);
  }

  /** Adds the counts since the last scrape to `counter` (its collect hook). */
  flushRequests(counter: Counter<"type" | "code">): void {
    for (const slot of this.touched) {
      const n = this.pending[slot]!;
      if (n > 0) counter.inc({ type: TYPES[Math.floor(slot / CODES)]!, code: String(slot % CODES) }, n);
      this.pending[slot] = 0;
    }
    this.touched.clear();
  }

  /** Sets `gauge` to the requests in flight by method (its collect hook). */
  setInFlight(gauge: Gauge<"type">): void {
    for (const [method, n] of this.inFlight) gauge.set({ type: method }, n);
  }
}
