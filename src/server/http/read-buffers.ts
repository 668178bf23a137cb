// Reusable buffers for reads of large needles (weed keeps such pages in a pool too). A fresh
// megabyte a request costs an allocation the V8 heap counts as external memory, so a stream of
// large reads triggers full garbage collections and page faults; pooled buffers cost neither.
// A buffer goes back only when its response is closed, so the socket is done with its bytes.

/** Buffers are kept in power-of-two classes from 64 KiB to 8 MiB. */
const MIN_CLASS = 16;
const MAX_CLASS = 23;
/**
 * At most this many idle bytes are kept across all classes. A buffer given back when the pool is
 * full makes room by dropping idle buffers of other sizes, largest first: the sizes in use now
 * win, and a burst of one size (large uploads waiting for their volume's appends) cannot leave the
 * pool full of buffers no later request uses.
 */
const MAX_IDLE_BYTES = 64 * 1024 * 1024;

const idle: Buffer[][] = Array.from({ length: MAX_CLASS + 1 }, () => []);
let idleBytes = 0;

function classOf(length: number): number {
  const c = Math.max(MIN_CLASS, 32 - Math.clz32(Math.max(1, length) - 1));
  return c;
}

/** A buffer of exactly `length` bytes (uninitialised), from the pool when one is free. */
export function takeReadBuffer(length: number): Buffer {
  const c = classOf(length);
  if (c > MAX_CLASS) return Buffer.allocUnsafeSlow(length);
  const whole = idle[c]!.pop();
  if (whole) {
    idleBytes -= whole.length;
    return whole.subarray(0, length);
  }
  return Buffer.allocUnsafeSlow(1 << c).subarray(0, length);
}

/** Hands back a buffer from takeReadBuffer; nothing may use it afterwards. */
export function giveReadBuffer(buf: Buffer): void {
  const whole = Buffer.from(buf.buffer, 0, buf.buffer.byteLength);
  const c = classOf(whole.length);
  if (c > MAX_CLASS || 1 << c !== whole.length || whole.length > MAX_IDLE_BYTES) return;
  for (let other = MAX_CLASS; idleBytes + whole.length > MAX_IDLE_BYTES && other >= MIN_CLASS; other--) {
    if (other === c) continue;
    while (idle[other]!.length > 0 && idleBytes + whole.length > MAX_IDLE_BYTES) {
      idle[other]!.pop();
      idleBytes -= 1 << other;
    }
  }
  if (idleBytes + whole.length > MAX_IDLE_BYTES) return;
  idle[c]!.push(whole);
  idleBytes += whole.length;
}
