// The volume server's Prometheus metrics, named and labelled as weed's (SeaweedFS_volumeServer_*,
// from weed/stats/metrics.go), plus the process metrics both runtimes export (process_*). Gauges
// describing the store (volumes, read-only volumes, disk sizes, disk usage) are computed when
// scraped rather than kept in step with every change.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Store } from "../storage/store/store.js";
import { diskUsage } from "../util/disk.js";
import { versionString } from "../version.js";
import { registerProcessExtras } from "./process-extras.js";
import { RequestTally } from "./request-tally.js";

const PREFIX = "SeaweedFS_volumeServer_";
/** prometheus.ExponentialBuckets(0.0001, 2, 24), as weed's request and vacuum histograms. */
const TIME_BUCKETS = Array.from({ length: 24 }, (_, i) => 0.0001 * 2 ** i);

export interface MetricsSources {
  store: Store;
  concurrentUploadLimitBytes: number;
  concurrentDownloadLimitBytes: number;
  inflightUploadBytes(): number;
  inflightDownloadBytes(): number;
}

const GOARCH: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm" };

export class VolumeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"type" | "code">;
  /** request_total, request_seconds and in_flight_requests, counted cheaply per request. */
  readonly tally: RequestTally;
  readonly handlers: Counter<"type">;
  readonly masterDisconnections: Counter<"address">;
  readonly fileReadFailures: Counter;
  readonly fileReadInvalidNeedles: Counter;
  readonly fileWriteFailures: Counter;
  readonly vacuumCompact: Counter<"success">;
  readonly vacuumCommit: Counter<"success">;
  readonly vacuumSeconds: Histogram<"type">;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    registerProcessExtras(this.registry);
    // The part of external memory held by Buffers/ArrayBuffers (not among prom-client's defaults):
    // tells buffer growth from heap growth in a soak.
    new Gauge({
      name: "nodejs_array_buffers_bytes",
      help: "Memory allocated for ArrayBuffers and Buffers, in bytes.",
      registers: [this.registry],
      collect() {
        this.set(process.memoryUsage().arrayBuffers);
      },
    });
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name: PREFIX + name, help, labelNames, registers });
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      collect?: (g: Gauge<L>) => void,
      fullName = PREFIX + name,
    ) =>
      new Gauge<L>({
        name: fullName,
        help,
        labelNames,
        registers,
        ...(collect
          ? {
              collect: function (this: Gauge<L>) {
                collect(this);
              },
            }
          : {}),
      });

    gauge(
      "",
      "A metric with a constant '1' value labeled by version, commit, sizelimit, goos, and goarch from which SeaweedFS was built.",
      ["version", "commit", "sizelimit", "goos", "goarch"],
      (g) => {
        const [sizelimit, version] = versionString(sources.store.defaultWidth).split(" ");
        g.reset();
        g.set(
          {
            version,
            commit: "",
            sizelimit,
            goos: process.platform,
            goarch: GOARCH[process.arch] ?? process.arch,
          },
          1,
        );
      },
      "SeaweedFS_build_info",
    );
    const started = Math.floor(Date.now() / 1000);
    gauge("start_time_seconds", "Start time of the volume server, as seconds since UNIX epoch.", [], (g) =>
      g.set(started),
    );
    this.tally = new RequestTally(
      this.registry,
      `${PREFIX}request_seconds`,
      "Bucketed histogram of volume server request processing time.",
      TIME_BUCKETS,
    );
    const tally = this.tally;
    this.requests = new Counter({
      name: `${PREFIX}request_total`,
      help: "Counter of volume server requests.",
      labelNames: ["type", "code"],
      registers,
      collect(this: Counter<"type" | "code">) {
        tally.flushRequests(this);
      },
    });
    this.handlers = counter("handler_total", "Counter of volume server handlers.", ["type"]);
    gauge(
      "in_flight_requests",
      "Current number of in-flight requests being handled by volume server.",
      ["type"],
      (g) => tally.setInFlight(g),
    );
    this.vacuumCompact = counter("vacuuming_compact_count", "Counter of volume vacuuming Compact counter", [
      "success",
    ]);
    this.vacuumCommit = counter("vacuuming_commit_count", "Counter of volume vacuuming commit counter", [
      "success",
    ]);
    this.vacuumSeconds = new Histogram({
      name: `${PREFIX}vacuuming_seconds`,
      help: "Bucketed histogram of volume server vacuuming processing time.",
      labelNames: ["type"],
      buckets: TIME_BUCKETS,
      registers,
    });
    this.masterDisconnections = counter("master_disconnections", "Number of master server disconnections.", [
      "address",
    ]);
    this.fileReadFailures = counter(
      "file_read_failures",
      "Counter of overall failed file read requests from clients.",
    );
    this.fileReadInvalidNeedles = counter(
      "file_read_invalid_needles",
      "Counter of failed file read requests due to invalid needle IDs from clients.",
    );
    this.fileWriteFailures = counter(
      "file_write_failures",
      "Counter of overall failed file write requests from clients.",
    );
    counter("storage_io_error_total", "Counter of storage read/write EIO errors on volumes and EC shards.");

    const { store } = sources;
    gauge("concurrent_download_limit", "Limit total concurrent download size.", [], (g) =>
      g.set(sources.concurrentDownloadLimitBytes),
    );
    gauge("concurrent_upload_limit", "Limit total concurrent upload size.", [], (g) =>
      g.set(sources.concurrentUploadLimitBytes),
    );
    gauge("in_flight_download_size", "In flight total download size.", [], (g) =>
      g.set(sources.inflightDownloadBytes()),
    );
    gauge("in_flight_upload_size", "In flight total upload size.", [], (g) =>
      g.set(sources.inflightUploadBytes()),
    );
    gauge("max_volumes", "Maximum number of volumes.", [], (g) =>
      g.set(store.locations.reduce((n, l) => n + l.maxVolumeCount, 0)),
    );
    gauge("volumes", "Number of volumes or shards.", ["collection", "type"], (g) => {
      g.reset();
      for (const l of store.locations)
        for (const v of l.volumes.values()) g.inc({ collection: v.collection, type: "volume" });
    });
    gauge("read_only_volumes", "Number of read only volumes.", ["collection", "type"], (g) => {
      g.reset();
      for (const l of store.locations) {
        for (const v of l.volumes.values()) {
          const collection = v.collection;
          for (const type of ["IsReadOnly", "noWriteOrDelete", "noWriteCanDelete", "isDiskSpaceLow"]) {
            g.inc({ collection, type }, 0);
          }
          if (!v.isReadOnly()) continue;
          g.inc({ collection, type: "IsReadOnly" });
          if (v.noWriteOrDelete) g.inc({ collection, type: "noWriteOrDelete" });
          if (v.noWriteCanDelete) g.inc({ collection, type: "noWriteCanDelete" });
          if (v.disk?.isDiskSpaceLow) g.inc({ collection, type: "isDiskSpaceLow" });
        }
      }
    });
    gauge("total_disk_size", "Actual disk size used by volumes.", ["collection", "type"], (g) => {
      g.reset();
      for (const l of store.locations) {
        for (const v of l.volumes.values()) {
          g.inc({ collection: v.collection, type: "normal" }, v.contentBytes);
          g.inc({ collection: v.collection, type: "deleted_bytes" }, v.deletedBytes);
        }
      }
    });
    gauge("resource", "Resource usage", ["name", "type"], (g) => {
      for (const l of store.locations) {
        try {
          const u = diskUsage(l.directory);
          g.set({ name: l.directory, type: "all" }, u.all);
          g.set({ name: l.directory, type: "used" }, u.used);
          g.set({ name: l.directory, type: "free" }, u.free);
          g.set({ name: l.directory, type: "avail" }, u.free);
        } catch {}
      }
    });
    gauge("disk_error_status", "Disk error status", ["name", "type"], (g) => {
      for (const l of store.locations) g.set({ name: l.directory, type: "error" }, 0);
    });
    new Histogram({
      name: `${PREFIX}replication_targets`,
      help: "Histogram of replica targets count per replication operation.",
      buckets: [1, 2, 3, 4, 5],
      registers,
    });
    gauge(
      "io_quarantine",
      "Number of volumes or EC shards quarantined due to storage IO errors.",
      ["kind"],
      (g) => {
        g.set({ kind: "volume" }, 0);
        g.set({ kind: "ec_shard" }, 0);
      },
    );
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
