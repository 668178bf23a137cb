// Positional file I/O helpers for volume files: whole reads and writes at an offset, synchronously
// (small needle I/O through the page cache costs microseconds; no promise, no extra copy).

import { fstatSync, readSync, writeSync, writevSync } from "node:fs";

export class ShortReadError extends Error {
  constructor(
    readonly wanted: number,
    readonly got: number,
    readonly position: number,
  ) {
    super(`read ${got} of ${wanted} bytes at offset ${position}: unexpected EOF`);
    this.name = "ShortReadError";
  }
}

/** Reads exactly `length` bytes at `position` into a new buffer, or throws ShortReadError. */
export function readAt(fd: number, length: number, position: number, into?: Buffer): Buffer {
  const buf = into ?? Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new ShortReadError(length, done, position);
    done += n;
  }
  return buf;
}

export function writeAt(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}

/** Writes several buffers back to back from `position` (one syscall in the common case). */
export function writevAt(fd: number, parts: Buffer[], position: number): void {
  const total = parts.reduce((n, p) => n + p.length, 0);
  let written = writevSync(fd, parts, position);
  if (written === total) return;
  // Rare short write: finish part by part.
  let offset = 0;
  for (const p of parts) {
    const start = Math.max(0, written - offset);
    if (start < p.length) writeAt(fd, p.subarray(start), position + offset + start);
    offset += p.length;
  }
  written = total;
}

export function fileSize(fd: number): number {
  return fstatSync(fd).size;
}
