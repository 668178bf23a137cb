// glog-style logging to stderr ("I1125 04:19:21.123456 <pid> message"), as weed prints it, so the
// logs of a Go and a TypeScript volume server read the same. -v sets the verbosity of V(n) lines;
// -log_json switches to one JSON object a line.

type Severity = "I" | "W" | "E" | "F";

let verbosity = 0;
let json = false;

export function configureLog(options: { verbosity?: number; json?: boolean }): void {
  verbosity = options.verbosity ?? verbosity;
  json = options.json ?? json;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function write(severity: Severity, message: string): void {
  const now = new Date();
  if (json) {
    const level = { I: "info", W: "warning", E: "error", F: "fatal" }[severity];
    process.stderr.write(`${JSON.stringify({ ts: now.toISOString(), level, msg: message })}\n`);
    return;
  }
  const micros = `${pad(now.getMilliseconds(), 3)}000`;
  const stamp = `${pad(now.getMonth() + 1)}${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${micros}`;
  process.stderr.write(`${severity}${stamp} ${process.pid} ${message}\n`);
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
