// The flags of `weed volume` (same names, kinds and defaults as the pinned Go server), weed's global
// flags that may precede or accompany them, and the flags this server adds.

import { tmpdir } from "node:os";
import { FlagSet } from "./flag-set.js";

const SECOND_NS = 1e9;

export function volumeFlagSet(): FlagSet {
  const f = new FlagSet();
  // weed volume
  f.define("port", "int", 8080, "http listen port");
  f.define("port.grpc", "int", 0, "grpc listen port (0 means port+10000)");
  f.define("port.public", "int", 0, "port opened to public (0 means the same as -port)");
  f.define("ip", "string", "", "ip or server name, also used as identifier (empty means detected)");
  f.define("id", "string", "", "volume server id. If empty, default to ip:port");
  f.define("publicUrl", "string", "", "publicly accessible address");
  f.define("ip.bind", "string", "", "ip address to bind to. If empty, default to same as -ip option.");
  f.define("master", "string", "localhost:9333", "comma-separated master servers");
  f.define("mserver", "string", "", "comma-separated master servers (deprecated, use -master instead)");
  f.define("preStopSeconds", "int", 10, "seconds between stopping heartbeats and stopping the server");
  f.define("idleTimeout", "int", 30, "connection idle seconds");
  f.define("dataCenter", "string", "", "current volume server's data center name");
  f.define("rack", "string", "", "current volume server's rack name");
  f.define("index", "string", "memory", "[memory|leveldb|leveldbMedium|leveldbLarge] needle map kind");
  f.define("disk", "string", "", "[hdd|ssd|<tag>] hard drive or solid state drive or any tag");
  f.define(
    "tags",
    "string",
    "",
    "comma-separated tag groups per data dir; each group uses ':' (e.g. fast:ssd,archive)",
  );
  f.define("images.fix.orientation", "bool", false, "adjust jpg orientation when uploading");
  f.define("readMode", "string", "proxy", "[local|proxy|redirect] how to serve a volume that is not local");
  f.define("cpuprofile", "string", "", "cpu profile output file");
  f.define("memprofile", "string", "", "memory profile output file");
  f.define("compactionMBps", "int", 0, "limit background compaction or copying speed in MB per second");
  f.define("compactionMaxParallelCommits", "int", 0, "limit concurrent vacuum commits; 0 means unlimited");
  f.define(
    "maintenanceMBps",
    "int",
    0,
    "limit maintenance (replication / balance) IO rate in MB/s; 0 means no limit",
  );
  f.define("fileSizeLimitMB", "int", 256, "limit file size to avoid out of memory");
  f.define("index.leveldbTimeout", "int64", 0, "hours before an idle leveldb index is off-loaded (0: never)");
  f.define("concurrentUploadLimitMB", "int", 0, "limit total concurrent upload size, 0 means unlimited");
  f.define("concurrentDownloadLimitMB", "int", 0, "limit total concurrent download size, 0 means unlimited");
  f.define("pprof", "bool", false, "enable profiling http handlers. precludes -memprofile and -cpuprofile");
  f.define("metricsPort", "int", 0, "Prometheus metrics listen port");
  f.define("metricsIp", "string", "", "metrics listen ip. If empty, default to same as -ip.bind option.");
  f.define("dir.idx", "string", "", "directory to store .idx files");
  f.define("inflightUploadDataTimeout", "duration", 60 * SECOND_NS, "inflight upload data wait timeout");
  f.define("inflightDownloadDataTimeout", "duration", 60 * SECOND_NS, "inflight download data wait timeout");
  f.define("hasSlowRead", "bool", true, "<experimental> keep slow reads from blocking other requests");
  f.define("readBufferSizeMB", "int", 4, "<experimental> read buffer size for large reads");
  f.define(
    "volume.allowUntrustedRemoteEndpoints",
    "bool",
    false,
    "let FetchAndWriteNeedle reach loopback, link-local and other internal S3 endpoints",
  );
  f.define("fsyncMinBatchBytes", "int64", 1024 * 1024, "minimum bytes an fsync batch gathers");
  f.define("fsyncMinBatchRequests", "int", 128, "minimum requests an fsync batch gathers");
  f.define("fsyncBatchWait", "duration", 500e3, "how long a small fsync batch waits for more requests");
  f.define("debug", "bool", false, "serve runtime profiling data on -debug.port");
  f.define("debug.port", "int", 6060, "http port for debugging");
  f.define("dir", "string", tmpdir(), "directories to store data files. dir[,dir]...");
  f.define(
    "max",
    "string",
    "8",
    "maximum numbers of volumes, count[,count]... 0 means derived from free space",
  );
  f.define(
    "whiteList",
    "string",
    "",
    "comma separated Ip addresses having write permission. No limit if empty.",
  );
  f.define(
    "minFreeSpacePercent",
    "string",
    "1",
    "minimum free disk space percent (deprecated, use minFreeSpace)",
  );
  f.define("minFreeSpace", "string", "", "min free disk space (<=100 as percentage, else bytes like 10GiB)");
  // weed's global flags (`weed -config_dir=DIR -v=2 volume ...`)
  f.define("config_dir", "string", "", "directory with toml configuration files");
  f.define("v", "int", 0, "log level [0|1|2|3|4]");
  f.define("logtostderr", "bool", false, "log to standard error instead of files");
  f.define("alsologtostderr", "bool", true, "log to standard error as well as files");
  f.define("stderrthreshold", "string", "ERROR", "logs at or above this threshold go to stderr");
  f.define("vmodule", "string", "", "comma-separated list of pattern=N settings for file-filtered logging");
  f.define("log_backtrace_at", "string", "", "when logging hits line file:N, emit a stack trace");
  f.define("logdir", "string", "", "if non-empty, write log files in this directory");
  f.define("log_max_size_mb", "int", 1800, "maximum size in megabytes of each log file before rotation");
  f.define("log_max_files", "int", 5, "maximum number of log files kept per severity");
  f.define("log_rotate_hours", "int", 168, "rotate log files after this many hours (0 = disabled)");
  f.define("log_json", "bool", false, "output logs in JSON format instead of glog text format");
  f.define("log_compress", "bool", false, "gzip-compress rotated log files");
  f.define(
    "options",
    "string",
    "",
    "a file of command line options, each line in optionName=optionValue format",
  );
  // ours
  f.define("securityFile", "string", "", "path of security.toml (default: searched where weed searches)");
  f.define(
    "offsetBytes",
    "int",
    0,
    "index offset width of new volumes: 4 (volumes up to 32GiB), 5 (8TiB), 0 to follow the master's build",
  );
  return f;
}

/**
 * Flags whose behaviour is built. Any other flag given on the command line is named once at start-up
 * as accepted but not yet implemented, so nothing is ignored silently.
 */
export const HONOURED_FLAGS: ReadonlySet<string> = new Set([
  "images.fix.orientation",
  "port",
  "port.grpc",
  "port.public",
  "ip",
  "id",
  "publicUrl",
  "ip.bind",
  "master",
  "mserver",
  "preStopSeconds",
  "dataCenter",
  "rack",
  "dir",
  "max",
  "disk",
  "tags",
  "minFreeSpacePercent",
  "minFreeSpace",
  "config_dir",
  "securityFile",
  "offsetBytes",
  "idleTimeout",
  "readMode",
  "whiteList",
  "index",
  "index.leveldbTimeout",
  "dir.idx",
  "fileSizeLimitMB",
  "compactionMBps",
  "maintenanceMBps",
  "concurrentUploadLimitMB",
  "concurrentDownloadLimitMB",
  "inflightUploadDataTimeout",
  "inflightDownloadDataTimeout",
  "volume.allowUntrustedRemoteEndpoints",
  "options",
  "v",
  "logtostderr",
  "alsologtostderr",
  "metricsPort",
  "metricsIp",
  "log_json",
  "logdir",
  "cpuprofile",
  "memprofile",
  "pprof",
  "debug",
  "debug.port",
]);
