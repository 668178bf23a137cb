// The process entry that bin/weed-volume runs. It checks the runtime before anything else loads, so
// an operator on an old Node.js gets one line instead of a syntax or API error from deep inside, and
// turns on V8's compile cache (the server's modules then load from cached bytecode on later starts).

// The default import, not a named one: a named import that an old Node.js lacks fails before any check.
import nodeModule from "node:module";
import { runtimeTooOld } from "./runtime.js";

const tooOld = runtimeTooOld(process.version, process.execPath);
if (tooOld) {
  process.stderr.write(`weed-volume: ${tooOld}\n`);
  process.exit(2);
}
nodeModule.enableCompileCache();
await import("./main.js");
