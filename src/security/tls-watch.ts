// Certificate files are re-read when they change on disk, so a rotated certificate (cert-manager,
// Vault) is served without a restart. weed stats its PEM files every 5 hours, or every
// WEED_TLS_CERT_REFRESH_INTERVAL (a Go duration); we poll at the same cadence.

import { readFileSync, statSync } from "node:fs";
import { parseGoDuration } from "../util/go-values.js";

const DEFAULT_REFRESH_MS = 5 * 3_600_000;

export function certRefreshIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const spec = env["WEED_TLS_CERT_REFRESH_INTERVAL"];
  if (spec) {
    try {
      const ns = parseGoDuration(spec);
      if (ns > 0) return Math.max(1, Math.round(ns / 1e6));
    } catch {}
  }
  return DEFAULT_REFRESH_MS;
}

function signature(paths: string[]): string {
  return paths
    .map((p) => {
      try {
        const s = statSync(p);
        return `${s.mtimeMs}:${s.size}:${s.ino}`;
      } catch {
        return "missing";
      }
    })
    .join("|");
}

/**
 * Reads a set of PEM files now and again whenever one of them changes; `onChange` gets the new
 * contents (a half-written set that fails to load is reported and retried at the next tick).
 */
export class PemFiles {
  private last: string;
  private timer: NodeJS.Timeout | undefined;
  contents: Buffer[];

  constructor(readonly paths: string[]) {
    this.contents = paths.map((p) => readFileSync(p));
    this.last = signature(paths);
  }

  watch(intervalMs: number, onChange: (contents: Buffer[]) => void, onError: (err: Error) => void): void {
    this.timer = setInterval(() => {
      const now = signature(this.paths);
      if (now === this.last) return;
      const previous = this.contents;
      try {
        this.contents = this.paths.map((p) => readFileSync(p));
        onChange(this.contents);
        this.last = now;
      } catch (err) {
        // Keep serving the previous certificate; the next tick tries again.
        this.contents = previous;
        onError(err as Error);
      }
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
