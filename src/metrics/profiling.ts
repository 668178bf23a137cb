// weed's profiling flags mapped onto V8's own profiler through node:inspector:
//   -cpuprofile=FILE  a CPU profile from start to shutdown, written as Chrome's .cpuprofile JSON
//                     (open in Chrome DevTools or speedscope);
//   -memprofile=FILE  a heap snapshot taken at shutdown (.heapsnapshot, Chrome DevTools);
//   -pprof            /debug/pprof/ on the admin port (and, as weed, it precludes the two above);
//   -debug            the same /debug/pprof/ handlers on their own listener at -debug.port.
// Under /debug/pprof/: profile?seconds=N (a .cpuprofile of N seconds, default 30) and heap (a
// .heapsnapshot). These are V8 formats, not pprof's protobuf: `go tool pprof` cannot read them.

import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Session } from "node:inspector";
import { log } from "../util/log.js";

function post<T = unknown>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))),
  );
}

async function startCpuProfile(): Promise<() => Promise<string>> {
  const session = new Session();
  session.connect();
  await post(session, "Profiler.enable");
  await post(session, "Profiler.start");
  return async () => {
    const { profile } = await post<{ profile: object }>(session, "Profiler.stop");
    session.disconnect();
    return JSON.stringify(profile);
  };
}

async function heapSnapshot(): Promise<string> {
  const session = new Session();
  session.connect();
  const chunks: string[] = [];
  session.on("HeapProfiler.addHeapSnapshotChunk", (m) => chunks.push(m.params.chunk));
  await post(session, "HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  session.disconnect();
  return chunks.join("");
}

/** Starts the -cpuprofile recording; the returned function writes both files at shutdown. */
export async function startExitProfiles(
  cpuProfile: string,
  memProfile: string,
): Promise<() => Promise<void>> {
  const stopCpu = cpuProfile ? await startCpuProfile() : undefined;
  return async () => {
    try {
      if (stopCpu) {
        writeFileSync(cpuProfile, await stopCpu());
        log.info(`wrote CPU profile ${cpuProfile}`);
      }
      if (memProfile) {
        writeFileSync(memProfile, await heapSnapshot());
        log.info(`wrote heap snapshot ${memProfile}`);
      }
    } catch (err) {
      log.error(`writing profiles: ${(err as Error).message}`);
    }
  };
}

const INDEX = `/debug/pprof/

profile?seconds=30  CPU profile of the given duration (.cpuprofile, Chrome DevTools)
heap                heap snapshot (.heapsnapshot, Chrome DevTools)
`;

/** Answers /debug/pprof/*; returns false for any other path. */
export function handleProfiling(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? "/", "http://x");
  if (!url.pathname.startsWith("/debug/pprof")) return false;
  const send = (name: string, body: Promise<string>) =>
    body.then(
      (text) =>
        res
          .writeHead(200, {
            "Content-Type": "application/json",
            "Content-Disposition": `attachment; filename="${name}"`,
          })
          .end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  switch (url.pathname) {
    case "/debug/pprof/profile": {
      const seconds = Math.min(Math.max(Number(url.searchParams.get("seconds") ?? 30) || 30, 1), 600);
      void send(
        "profile.cpuprofile",
        startCpuProfile().then(
          (stop) => new Promise<string>((r) => setTimeout(() => r(stop()), seconds * 1000)),
        ),
      );
      return true;
    }
    case "/debug/pprof/heap":
      void send("heap.heapsnapshot", heapSnapshot());
      return true;
    default:
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end(INDEX);
      return true;
  }
}

/** -debug: the profiling handlers on their own port, all interfaces as weed's ":<debug.port>". */
export function serveDebug(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (!handleProfiling(req, res)) res.writeHead(404).end("404 page not found\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve(server));
  });
}
