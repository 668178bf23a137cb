// One data directory (-dir entry): its volumes, its max volume count, disk type, tags and the
// vol_dir.uuid that lets the master notice two servers sharing a directory.

import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { diskUsage } from "../../util/disk.js";
import { namesRemoteDat } from "../backend/tiered-dat.js";
import { parseVolumeId } from "../needle/file-id.js";
import type { Volume, VolumeDisk } from "../volume/volume.js";
import type { VolumeFiles } from "./volume-loader.js";

export const UUID_FILE_NAME = "vol_dir.uuid";

export type MinFreeSpace = { kind: "percent"; percent: number } | { kind: "bytes"; bytes: number };

export interface DiskLocationOptions {
  directory: string;
  idxDirectory: string;
  maxVolumeCount: number;
  minFreeSpace: MinFreeSpace;
  diskType: string;
  tags: string[];
}

/** "<collection>_<id>" or "<id>" from a volume file's base name; undefined when not a volume. */
export function parseVolumeBaseName(base: string): { collection: string; id: number } | undefined {
  const sep = base.lastIndexOf("_");
  const collection = sep > 0 ? base.slice(0, sep) : "";
  try {
    return { collection, id: parseVolumeId(sep > 0 ? base.slice(sep + 1) : base) };
  } catch {
    return undefined;
  }
}

/** weed's ToDiskType: case-insensitive, and "hdd" is the default type, spelt "". */
export function toDiskType(s: string): string {
  const t = s.toLowerCase();
  return t === "hdd" ? "" : t;
}

export class DiskLocation {
  readonly directory: string;
  readonly idxDirectory: string;
  maxVolumeCount: number;
  /** The max as configured; 0 means derived from free space. */
  readonly originalMaxVolumeCount: number;
  readonly minFreeSpace: MinFreeSpace;
  readonly diskType: string;
  readonly tags: string[];
  readonly uuid: string;
  readonly volumes: Map<number, Volume> = new LocationVolumes(this);
  /** Free space fell under -minFreeSpace: every volume here refuses writes. */
  isDiskSpaceLow = false;
  /** Told when isDiskSpaceLow flips, with weed's description of the free space. */
  onDiskSpaceChange: ((low: boolean, description: string) => void) | undefined;

  constructor(options: DiskLocationOptions) {
    this.directory = options.directory;
    this.idxDirectory = options.idxDirectory || options.directory;
    this.maxVolumeCount = options.maxVolumeCount;
    this.originalMaxVolumeCount = options.maxVolumeCount;
    this.minFreeSpace = options.minFreeSpace;
    this.diskType = options.diskType;
    this.tags = options.tags;
    if (this.idxDirectory !== this.directory) mkdirSync(this.idxDirectory, { recursive: true });
    this.uuid = readOrCreateUuid(this.directory);
  }

  /**
   * The volumes whose files are in the directory, for loading (see volume-loader.ts). The files of a
   * copy that died mid-swap (a .note left behind) are removed here, with a warning.
   */
  findVolumeFiles(warn: (message: string) => void): VolumeFiles[] {
    // The whole listing first: loading writes files (.vif, .ldb) into this directory.
    const names = new Set<string>();
    for (const entry of readdirSync(this.directory, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const m = /^(.+)\.(idx|vif|dat)$/.exec(entry.name);
      if (m) names.add(m[1]!);
    }
    const found: VolumeFiles[] = [];
    for (const base of names) {
      const parsed = parseVolumeBaseName(base);
      if (!parsed) continue;
      const idxDir = this.resolveIdxDir(base);
      const unfinished = sweepIncompleteCopy(this.directory, idxDir, base);
      if (unfinished !== undefined) {
        warn(`volume ${base} was not completed: ${unfinished}`);
        continue;
      }
      const tiered = () => namesRemoteDat(join(this.directory, `${base}.vif`));
      if (!existsSync(join(this.directory, `${base}.dat`)) && !tiered()) continue;
      let idxBytes = 0;
      try {
        idxBytes = statSync(join(idxDir, `${base}.idx`)).size;
      } catch {
        // No .idx yet: loading rebuilds it.
      }
      found.push({ location: this, base, collection: parsed.collection, id: parsed.id, idxBytes });
    }
    return found;
  }

  /** An .idx beside the .dat wins over -dir.idx, as weed decides. */
  resolveIdxDir(base: string): string {
    if (this.idxDirectory !== this.directory && existsSync(join(this.directory, `${base}.idx`)))
      return this.directory;
    return this.idxDirectory;
  }

  /**
   * Compares the free space with -minFreeSpace, as weed does when the directory is opened and every
   * minute after; also called when a write runs out of space, so the volumes turn read-only at once.
   */
  checkDiskSpace(): void {
    let usage: ReturnType<typeof diskUsage>;
    try {
      usage = diskUsage(this.directory);
    } catch {
      return; // An unreadable directory shows in the writes themselves.
    }
    const min = this.minFreeSpace;
    const low = min.kind === "percent" ? usage.percentFree < min.percent : usage.free < min.bytes;
    if (low === this.isDiskSpaceLow) return;
    this.isDiskSpaceLow = low;
    const op = low ? "<" : ">=";
    const description =
      min.kind === "percent"
        ? `disk free ${usage.percentFree.toFixed(2)}% ${op} required ${min.percent.toFixed(2)}%`
        : `disk free ${usage.free} bytes ${op} required ${min.bytes} bytes`;
    this.onDiskSpaceChange?.(low, description);
  }

  volumeCount(): number {
    return this.volumes.size;
  }

  freeSlots(): number {
    return this.maxVolumeCount - this.volumes.size;
  }
}

/** The volumes of one directory; a volume put here learns its directory's free-space state. */
class LocationVolumes extends Map<number, Volume> {
  constructor(private readonly disk: VolumeDisk) {
    super();
  }
  override set(id: number, volume: Volume): this {
    volume.disk = this.disk;
    return super.set(id, volume);
  }
}

function readOrCreateUuid(dir: string): string {
  const file = join(dir, UUID_FILE_NAME);
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8");
    if (text.length > 0) return text;
  }
  const uuid = randomUUID();
  writeFileSync(file, uuid, { mode: 0o644 });
  return uuid;
}

/** A leftover .note means a copy died mid-swap: its files are partial and are removed. */
function sweepIncompleteCopy(directory: string, idxDirectory: string, base: string): string | undefined {
  const note = join(directory, `${base}.note`);
  if (!existsSync(note)) return undefined;
  const text = readFileSync(note, "utf8");
  const keepVif = existsSync(join(directory, `${base}.ecx`)) || existsSync(join(idxDirectory, `${base}.ecx`));
  for (const dir of new Set([directory, idxDirectory])) {
    for (const ext of [
      ".dat",
      ".idx",
      ".sdx",
      ".ldb",
      ".cpd",
      ".cpx",
      ".note",
      ...(keepVif ? [] : [".vif"]),
    ]) {
      rmSync(join(dir, base + ext), { recursive: true, force: true });
    }
  }
  return text;
}
