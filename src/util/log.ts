// glog-style logging ("I1125 04:19:21.123456 <pid> message"), as weed prints it, so the logs of a
// Go and a TypeScript volume server read the same. -v sets the verbosity of V(n) lines; -log_json
// switches to one JSON object a line. Lines go to stderr and, with -logdir, to glog's files
// (log-files); -logtostderr keeps them on stderr only, -alsologtostderr=false in the files only.

import { GlogFiles, type Severity } from "./log-files.js";

let verbosity = 0;
let json = false;
let files: GlogFiles | undefined;
let toStderr = true;

export function configureLog(options: {
  verbosity?: number;
  json?: boolean;
  logDir?: string;
  logToStderr?: boolean;
  alsoLogToStderr?: boolean;
}): void {
  verbosity = options.verbosity ?? verbosity;
  json = options.json ?? json;
  if (options.logDir && !options.logToStderr) {
    files?.close();
    files = new GlogFiles(options.logDir);
    toStderr = options.alsoLogToStderr ?? true;
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function format(severity: Severity, message: string, now: Date): string {
  if (json) {
    const level = { I: "info", W: "warning", E: "error", F: "fatal" }[severity];
    return `${JSON.stringify({ ts: now.toISOString(), level, pid: process.pid, msg: message })}\n`;
  }
  const micros = `${pad(now.getMilliseconds(), 3)}000`;
  const stamp = `${pad(now.getMonth() + 1)}${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${micros}`;
  return `${severity}${stamp} ${process.pid} ${message}\n`;
}

function write(severity: Severity, message: string): void {
  const line = format(severity, message, new Date());
  files?.write(severity, line);
  if (toStderr || !files) process.stderr.write(line);
}

export const log = {
  info: (message: string) => write("I", message),
  warn: (message: string) => write("W", message),
  error: (message: string) => write("E", message),
  /** Verbose info, printed when -v is at least `level`. */
  v: (level: number, message: string) => {
    if (verbosity >= level) write("I", message);
  },
  enabled: (level: number) => verbosity >= level,
};
