// Positional file I/O helpers for volume files: whole reads and writes at an offset, synchronously
// (small needle I/O through the page cache costs microseconds; no promise, no extra copy), and an
// asynchronous writev for large appends.

import { fstatSync, fsync, readSync, writeSync, writev, writevSync } from "node:fs";

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
  finishWritev(fd, parts, position, writevSync(fd, parts, position));
}

/** writevAt on libuv's thread pool: the event loop goes on while the kernel copies the bytes. */
export function writevAtAsync(fd: number, parts: Buffer[], position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    writev(fd, parts, position, (err, written) => {
      if (err) return reject(err);
      try {
        finishWritev(fd, parts, position, written);
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
}

export function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** After a writev of `written` bytes: the rare short write is finished part by part. */
function finishWritev(fd: number, parts: Buffer[], position: number, written: number): void {
  let offset = 0;
  for (const p of parts) {
    const start = Math.max(0, written - offset);
    if (start < p.length) writeAt(fd, p.subarray(start), position + offset + start);
    offset += p.length;
  }
}

export function fileSize(fd: number): number {
  return fstatSync(fd).size;
}
