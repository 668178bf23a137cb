// glog's log files under -logdir, named as weed names them so operators find them in the same place:
// <program>.<host>.<user>.log.<SEVERITY>.<yyyymmdd-hhmmss>.<pid>, with a <program>.<SEVERITY>
// symlink to the newest. As glog, the INFO file holds every line, WARNING warnings and above,
// ERROR errors and above; files are created on first use. Rotation is left to the operator
// (logrotate with copytruncate), the -log_max_size_mb family is not acted on.

import { closeSync, openSync, symlinkSync, unlinkSync, writeSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { join } from "node:path";

export type Severity = "I" | "W" | "E" | "F";

const TAGS: [Severity, string][] = [
  ["I", "INFO"],
  ["W", "WARNING"],
  ["E", "ERROR"],
  ["F", "FATAL"],
];
const RANK: Record<Severity, number> = { I: 0, W: 1, E: 2, F: 3 };

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function userName(): string {
  try {
    return userInfo().username.replaceAll("\\", "_");
  } catch {
    return "unknownuser";
  }
}

export function glogFileName(program: string, tag: string, t: Date, pid = process.pid): string {
  const host = hostname().split(".")[0] || "unknownhost";
  const stamp = `${t.getFullYear()}${pad(t.getMonth() + 1)}${pad(t.getDate())}-${pad(t.getHours())}${pad(t.getMinutes())}${pad(t.getSeconds())}`;
  return `${program}.${host}.${userName()}.log.${tag}.${stamp}.${pid}`;
}

export class GlogFiles {
  private readonly fds = new Map<string, number>();

  constructor(
    private readonly dir: string,
    private readonly program = "weed",
  ) {}

  /** Appends a formatted line to the file of its severity and of every lower one. */
  write(severity: Severity, line: string): void {
    for (const [s, tag] of TAGS) {
      if (RANK[s] > RANK[severity]) break;
      try {
        writeSync(this.fd(tag), line);
      } catch {}
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private fd(tag: string): number {
    let fd = this.fds.get(tag);
    if (fd === undefined) {
      const now = new Date();
      const name = glogFileName(this.program, tag, now);
      fd = openSync(join(this.dir, name), "a");
      writeSync(
        fd,
        `Log file created at: ${now.getFullYear()}/${pad(now.getMonth() + 1)}/${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}\nRunning on machine: ${hostname()}\nBinary: Built with node ${process.version} for ${process.platform}/${process.arch}\nLog line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg\n`,
      );
      const link = join(this.dir, `${this.program}.${tag}`);
      try {
        unlinkSync(link);
      } catch {}
      try {
        symlinkSync(name, link);
      } catch {}
      this.fds.set(tag, fd);
    }
    return fd;
  }
}
