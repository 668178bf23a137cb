// Entry point: `weed-volume [weed global flags] [volume] [volume flags]`, the command line of
// `weed [global flags] volume [flags]`. Bad flags exit 2 with one line before anything is touched.

import { readFileSync } from "node:fs";
import type { VolumeServerOptions } from "../config/volume-server-options.js";
import { serveDebug, startExitProfiles } from "../metrics/profiling.js";
import { loadSecurityConfig } from "../security/config.js";
import { MapHeadStart } from "../storage/store/map-head-start.js";
import { configureLog, log } from "../util/log.js";
import { FlagError, HelpRequested, type ParseResult } from "./flag-set.js";
import { buildOptions } from "./options.js";
import { volumeFlagSet } from "./volume-flags.js";

const USAGE_LINE = "weed-volume -port=8080 -dir=/tmp -max=5 -ip=server_name -master=localhost:9333";

function parseCommandLine(argv: string[]): ParseResult {
  const flags = volumeFlagSet();
  // Global flags may come first and the word "volume" may follow, as in `weed -v=1 volume -port=1`.
  const first = flags.parse(argv);
  if (first.rest[0] !== "volume") return first;
  const second = flags.parse(first.rest.slice(1));
  for (const name of first.set) {
    if (!second.set.has(name)) {
      second.values.set(name, first.values.get(name)!);
      second.set.add(name);
    }
  }
  return second;
}

function usage(): string {
  return `Example: ${USAGE_LINE}\nDefault Usage:\n${volumeFlagSet().defaults()}Description:\n  start a volume server to provide storage spaces\n`;
}

function fail(message: string): never {
  process.stderr.write(`weed-volume: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed: ParseResult;
  let options: VolumeServerOptions;
  try {
    parsed = parseCommandLine(process.argv.slice(2));
    const flags = volumeFlagSet();
    flags.applyEnvironment(parsed, process.env);
    const optionsFile = parsed.values.get("options") as string;
    if (optionsFile) {
      let text: string;
      try {
        text = readFileSync(optionsFile, "utf8");
      } catch (err) {
        throw new FlagError(
          `open ${optionsFile}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (err as Error).message}`,
        );
      }
      flags.applyOptionsText(parsed, text);
    }
    options = buildOptions(parsed);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(usage());
      process.exit(0);
    }
    if (err instanceof FlagError) fail(err.message);
    throw err;
  }
  let security: ReturnType<typeof loadSecurityConfig>;
  try {
    security = loadSecurityConfig(options.securityFile, options.configDir);
  } catch (err) {
    fail((err as Error).message);
  }

  configureLog({ verbosity: options.verbosity, ...options.logging });
  const { profiling } = options;
  // As weed: -pprof precludes -cpuprofile and -memprofile.
  const writeProfiles = profiling.pprof
    ? async () => undefined
    : await startExitProfiles(profiling.cpuProfile, profiling.memProfile);
  if (profiling.debug) {
    await serveDebug(profiling.debugPort).then(
      () => log.info(`profiling at http://0.0.0.0:${profiling.debugPort}/debug/pprof/`),
      (err: Error) => log.error(`-debug.port=${profiling.debugPort}: ${err.message}`),
    );
  }
  if (parsed.rest.length > 0) log.warn(`ignoring extra arguments: ${parsed.rest.join(" ")}`);
  for (const name of options.notImplemented) log.warn(`flag -${name} is accepted but not yet implemented`);
  for (const warning of options.warnings) log.warn(warning);
  log.info(security.path ? `loaded security configuration from ${security.path}` : "no security.toml found");

  // The server's modules take a while to load: the needle maps get built meanwhile, on other cores.
  const headStart =
    options.needleMapKind === "memory"
      ? MapHeadStart.start(
          options.folders.map((f) => ({
            directory: f.directory,
            idxDirectory: options.idxFolder || f.directory,
          })),
          options.offsetWidth || 4,
        )
      : undefined;
  const { startVolumeServer } = await import("../server/volume-server.js");
  const server = await startVolumeServer(options, security, headStart);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`volume server received ${signal}, shutting down`);
    server
      .shutdown()
      .then(writeProfiles)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error(`shutdown: ${(err as Error).message}`);
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  log.error(`volume server failed to start: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
