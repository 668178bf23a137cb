// The store's HTTP handlers wrapped to count their requests by method and status, as weed's
// privateStoreHandler does: the HTTP adapter's side of the request metrics.

import { requestType } from "../../metrics/request-tally.js";
import type { VolumeMetrics } from "../../metrics/volume-metrics.js";
import type { Handler, StoreHandlers } from "./router.js";

/** The store's handlers counted as weed's privateStoreHandler counts them. */
export function instrumentedStore(store: StoreHandlers, metrics: VolumeMetrics): StoreHandlers {
  return {
    read: instrumented(store.read, metrics, "read"),
    write: instrumented(store.write, metrics, "write"),
    delete: instrumented(store.delete, metrics, "delete"),
  };
}

/** type = method (INVALID if unsupported), code = the status; failures counted as weed names them. */
function instrumented(handler: Handler, metrics: VolumeMetrics, kind: "read" | "write" | "delete"): Handler {
  const tally = metrics.tally;
  return (req, res) => {
    const method = req.method ?? "";
    const start = performance.now();
    tally.begin(method);
    // 'close' follows 'finish' on every response, and comes alone when the client goes away.
    res.once("close", () => {
      const status = res.statusCode;
      tally.end(method, requestType(method), status, (performance.now() - start) / 1000);
      if (kind === "write" && status >= 400) metrics.fileWriteFailures.inc();
      if (kind === "read" && (status === 404 || status >= 500)) {
        metrics.fileReadFailures.inc();
        metrics.handlers.inc({ type: status === 404 ? "errorGetNotFound" : "errorGetInternal" });
      }
    });
    handler(req, res);
  };
}
