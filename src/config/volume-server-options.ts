// The volume server's configuration once the command line is parsed and checked (src/cli builds it):
// a plain type below every layer that reads it, so the server and the cluster code need nothing of cli.

/** A -minFreeSpace or -minFreeSpacePercent value: a percentage of the disk, or a byte count. */
export type MinFreeSpace =
  | { kind: "percent"; percent: number; raw: string }
  | { kind: "bytes"; bytes: number; raw: string };

export type NeedleMapKind = "memory" | "leveldb" | "leveldbMedium" | "leveldbLarge";
export type ReadMode = "local" | "proxy" | "redirect";

export interface DataFolder {
  directory: string;
  maxVolumeCount: number;
  minFreeSpace: MinFreeSpace;
  /** "" is the hard-drive type, as in Go; "ssd" or any tag otherwise. */
  diskType: string;
  tags: string[];
}

export interface VolumeServerOptions {
  port: number;
  grpcPort: number;
  publicPort: number;
  ip: string;
  bindIp: string;
  /** True when -ip.bind was not given: then loopback is listened on as well, as Go does. */
  listenOnLocalhost: boolean;
  id: string;
  publicUrl: string;
  masters: string[];
  preStopSeconds: number;
  idleTimeoutSeconds: number;
  dataCenter: string;
  rack: string;
  needleMapKind: NeedleMapKind;
  folders: DataFolder[];
  idxFolder: string;
  fixJpgOrientation: boolean;
  readMode: ReadMode;
  compactionMBps: number;
  maintenanceMBps: number;
  maxParallelVacuumCommits: number;
  fileSizeLimitMB: number;
  leveldbTimeoutHours: number;
  concurrentUploadLimitBytes: number;
  concurrentDownloadLimitBytes: number;
  inflightUploadDataTimeoutMs: number;
  inflightDownloadDataTimeoutMs: number;
  hasSlowRead: boolean;
  readBufferSizeMB: number;
  allowUntrustedRemoteEndpoints: boolean;
  whiteList: string[];
  metricsPort: number;
  metricsIp: string;
  configDir: string;
  securityFile: string;
  /** Offset width of new volumes; 0 follows the master's build (4 until it is known). */
  offsetWidth: 0 | 4 | 5;
  verbosity: number;
  /** Logging: glog's files under logDir, stderr, JSON lines (see util/log). */
  logging: { logDir: string; logToStderr: boolean; alsoLogToStderr: boolean; json: boolean };
  /** Profiling (see metrics/profiling): files written at exit, /debug/pprof on the admin or debug port. */
  profiling: { cpuProfile: string; memProfile: string; pprof: boolean; debug: boolean; debugPort: number };
  /** Flags given on the command line that this server does not act on yet. */
  notImplemented: string[];
  /** Warnings to log at start-up (e.g. an unknown -index value falling back as Go's does). */
  warnings: string[];
}
