// Turns parsed flags into the server's typed options, checking everything that can be checked before
// a directory is touched; a bad value is a FlagError (one line, exit 2), as the issue asks.

import { networkInterfaces } from "node:os";
import { resolve } from "node:path";
import { joinHostPort } from "../cluster/server-address.js";
import type { NeedleMapKind, VolumeServerOptions } from "../config/volume-server-options.js";
import { toDiskType } from "../storage/store/disk-location.js";
import { FlagError, type ParseResult } from "./flag-set.js";
import { parseMinFreeSpace } from "./min-free-space.js";
import { HONOURED_FLAGS } from "./volume-flags.js";

export function buildOptions(parsed: ParseResult): VolumeServerOptions {
  const { values, set } = parsed;
  const str = (name: string) => values.get(name) as string;
  const int = (name: string) => values.get(name) as number;
  const bool = (name: string) => values.get(name) as boolean;
  const warnings: string[] = [];

  const directories = str("dir")
    .split(",")
    .map((d) => resolvePath(d));
  const maxCounts = str("max")
    .split(",")
    .map((m) => {
      if (!/^[+-]?\d+$/.test(m)) throw new FlagError(`The max specified in -max not a valid number ${m}`);
      return Number(m);
    });
  const perFolder = <T>(list: T[], what: string): T[] => {
    if (list.length === 1 && directories.length > 1) return directories.map(() => list[0]!);
    if (list.length !== directories.length) {
      throw new FlagError(`${directories.length} directories by -dir, but only ${list.length} ${what}`);
    }
    return list;
  };
  const maxes = perFolder(maxCounts, "max is set by -max");
  const freeSpaceSpec = str("minFreeSpace") || str("minFreeSpacePercent");
  const freeSpaces = perFolder(
    freeSpaceSpec.split(",").map((s) => {
      const parsedSpace = parseMinFreeSpace(s);
      if (!parsedSpace) throw new FlagError(`The value specified in -minFreeSpace not a valid value ${s}`);
      return parsedSpace;
    }),
    "minFreeSpacePercent is set by -minFreeSpacePercent",
  );
  const diskTypes = perFolder(str("disk").split(",").map(toDiskType), "disk types is set by -disk");
  const tags = folderTags(str("tags"), directories.length);

  let needleMapKind: NeedleMapKind = "memory";
  const index = str("index");
  if (index === "leveldb" || index === "leveldbMedium" || index === "leveldbLarge") needleMapKind = index;
  else if (index !== "memory") warnings.push(`unknown -index=${index}, using memory as weed does`);

  const readMode = str("readMode");
  if (readMode !== "local" && readMode !== "proxy" && readMode !== "redirect") {
    throw new FlagError(`invalid value "${readMode}" for flag -readMode: expected local, proxy or redirect`);
  }

  for (const name of ["port", "port.grpc", "port.public", "metricsPort", "debug.port"]) {
    const p = int(name);
    if (p < 0 || p > 65535) throw new FlagError(`invalid value "${p}" for flag -${name}: not a port number`);
  }

  const offsetBytes = int("offsetBytes");
  if (offsetBytes !== 0 && offsetBytes !== 4 && offsetBytes !== 5) {
    throw new FlagError(`invalid value "${offsetBytes}" for flag -offsetBytes: must be 0, 4 or 5`);
  }

  const ip = str("ip") || detectHostAddress();
  const port = int("port");
  const publicPort = int("port.public") || port;
  const bindIp = str("ip.bind") || ip;
  const mastersSpec = str("mserver") || str("master");

  return {
    port,
    grpcPort: int("port.grpc") || port + 10000,
    publicPort,
    ip,
    bindIp,
    listenOnLocalhost: str("ip.bind") === "",
    id: str("id").trim() || joinHostPort(ip, port),
    publicUrl: str("publicUrl") || joinHostPort(ip, publicPort),
    masters: mastersSpec
      .split(",")
      .map((m) => m.trim())
      .filter((m) => m !== ""),
    preStopSeconds: int("preStopSeconds"),
    idleTimeoutSeconds: int("idleTimeout"),
    dataCenter: str("dataCenter"),
    rack: str("rack"),
    needleMapKind,
    folders: directories.map((directory, i) => ({
      directory,
      maxVolumeCount: maxes[i]!,
      minFreeSpace: freeSpaces[i]!,
      diskType: diskTypes[i]!,
      tags: tags[i]!,
    })),
    idxFolder: str("dir.idx") ? resolvePath(str("dir.idx")) : "",
    fixJpgOrientation: bool("images.fix.orientation"),
    readMode,
    compactionMBps: int("compactionMBps"),
    maintenanceMBps: int("maintenanceMBps"),
    maxParallelVacuumCommits: int("compactionMaxParallelCommits"),
    fileSizeLimitMB: int("fileSizeLimitMB"),
    leveldbTimeoutHours: int("index.leveldbTimeout"),
    concurrentUploadLimitBytes: int("concurrentUploadLimitMB") * 1024 * 1024,
    concurrentDownloadLimitBytes: int("concurrentDownloadLimitMB") * 1024 * 1024,
    inflightUploadDataTimeoutMs: int("inflightUploadDataTimeout") / 1e6,
    inflightDownloadDataTimeoutMs: int("inflightDownloadDataTimeout") / 1e6,
    hasSlowRead: bool("hasSlowRead"),
    readBufferSizeMB: int("readBufferSizeMB"),
    allowUntrustedRemoteEndpoints: bool("volume.allowUntrustedRemoteEndpoints"),
    whiteList: str("whiteList")
      .split(",")
      .map((w) => w.trim())
      .filter((w) => w !== ""),
    metricsPort: int("metricsPort"),
    metricsIp: str("metricsIp") || str("ip.bind") || ip,
    configDir: str("config_dir") ? resolvePath(str("config_dir")) : "",
    securityFile: str("securityFile") ? resolvePath(str("securityFile")) : "",
    offsetWidth: offsetBytes,
    verbosity: int("v"),
    logging: {
      logDir: str("logdir") ? resolvePath(str("logdir")) : "",
      logToStderr: bool("logtostderr"),
      alsoLogToStderr: bool("alsologtostderr"),
      json: bool("log_json"),
    },
    profiling: {
      cpuProfile: str("cpuprofile") ? resolvePath(str("cpuprofile")) : "",
      memProfile: str("memprofile") ? resolvePath(str("memprofile")) : "",
      pprof: bool("pprof"),
      debug: bool("debug"),
      debugPort: int("debug.port"),
    },
    notImplemented: [...set].filter((name) => !HONOURED_FLAGS.has(name)),
    warnings,
  };
}

/** util.ResolvePath: a leading ~ is the home directory. */
function resolvePath(p: string): string {
  if (p === "~" || p.startsWith("~/")) p = (process.env["HOME"] ?? "") + p.slice(1);
  return resolve(p);
}

/** One tag group per folder; a single group applies to all of them. */
function folderTags(spec: string, folderCount: number): string[][] {
  const groups = spec.trim() === "" ? [] : spec.split(",");
  const normalize = (group: string) => [
    ...new Set(
      group
        .split(":")
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t !== ""),
    ),
  ];
  return Array.from({ length: folderCount }, (_, i) => {
    const group = groups.length === 1 ? groups[0] : groups[i];
    return group === undefined ? [] : normalize(group);
  });
}

/** The first non-loopback IPv4 address of an interface that is up, else IPv6, else localhost. */
function detectHostAddress(): string {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const external = all.filter((a) => !a.internal);
  return (
    external.find((a) => a.family === "IPv4")?.address ??
    external.find((a) => a.family === "IPv6")?.address ??
    "localhost"
  );
}
