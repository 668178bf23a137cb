// Pulling a request body chunk by chunk, and a queue of those chunks that can be searched and cut
// without copying them: the upload parser keeps views of the chunks it was sent and joins the file's
// bytes once, at the end.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { BODY_CUT_SHORT, bodiesCutShort } from "./protocol.js";

/** The body of a request, one chunk at a time, paused between pulls. */
export class RequestBody {
  private pending: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private released = false;

  private readonly onData = (chunk: Buffer): void => {
    this.pending.push(chunk);
    this.req.pause();
    this.signal();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.signal();
  };
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
    this.signal();
  };
  private readonly onClose = (): void => {
    // The client went away before the body ended: Go's body reader reports an unexpected EOF.
    if (!this.ended) this.failure ??= new Error("unexpected EOF");
    this.signal();
  };

  /**
   * The connection was idle for -idleTimeout in the middle of the body: weed's connection deadline
   * fails the body read with "i/o timeout", its handler answers that (400), and the connection
   * closes. Listening here keeps Node from destroying the socket before that answer.
   */
  private readonly onTimeout = (): void => {
    const socket = this.req.socket as Socket & { _httpMessage?: ServerResponse | null };
    const res = socket._httpMessage;
    if (!res || res.headersSent) {
      socket.destroy();
      return;
    }
    res.shouldKeepAlive = false;
    // Should the answer itself stall, the next idle period ends the connection.
    socket.setTimeout(socket.timeout ?? 0, () => socket.destroy());
    this.failure ??= new Error(
      `read tcp ${socket.localAddress}:${socket.localPort}->${socket.remoteAddress}:${socket.remotePort}: i/o timeout`,
    );
    this.signal();
  };

  constructor(private readonly req: IncomingMessage) {
    req.on("timeout", this.onTimeout);
    req.on("data", this.onData);
    req.on("end", this.onEnd);
    req.on("error", this.onError);
    req.on("close", this.onClose);
    req.on(BODY_CUT_SHORT, this.onClose);
    if (bodiesCutShort.has(req)) this.onClose();
    req.pause();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next chunk, or undefined at the end of the body. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      const chunk = this.pending.shift();
      if (chunk) return chunk;
      if (this.failure) throw this.failure;
      if (this.ended || this.released) return undefined;
      const arrived = new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.req.resume();
      await arrived;
    }
  }

  /** Stops reading for the parser; whatever is left of the body is read and thrown away. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.pending = [];
    this.req.off("data", this.onData);
    this.req.off("end", this.onEnd);
    this.req.off("error", this.onError);
    this.req.off("close", this.onClose);
    this.req.off("timeout", this.onTimeout);
    this.req.off(BODY_CUT_SHORT, this.onClose);
    this.signal();
    this.req.resume();
  }
}

/** Buffered, not yet consumed bytes of a body: a list of chunk views searched as one sequence. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Unconsumed bytes buffered. */
  length = 0;
  /** The body has ended: no more bytes will come. */
  ended = false;

  constructor(private readonly body: RequestBody) {}

  /** Buffers one more chunk; false at the end of the body. */
  async pull(): Promise<boolean> {
    if (this.ended) return false;
    const chunk = await this.body.next();
    if (chunk === undefined) {
      this.ended = true;
      return false;
    }
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    return true;
  }

  /** Pulls until at least n bytes are buffered or the body ends; whether n bytes are there. */
  async fill(n: number): Promise<boolean> {
    while (this.length < n) if (!(await this.pull())) return false;
    return true;
  }

  byteAt(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i]!;
      i -= c.length;
    }
    return -1;
  }

  /** First index at or after `from` where `pattern` starts, or -1. */
  indexOf(pattern: Uint8Array, from = 0): number {
    const m = pattern.length;
    let base = 0;
    for (let k = 0; k < this.chunks.length; k++) {
      const c = this.chunks[k]!;
      const start = Math.max(0, from - base);
      if (start < c.length) {
        const hit = c.indexOf(pattern, start);
        if (hit >= 0) return base + hit;
        // A match that begins near the end of this chunk and runs into the next ones.
        const tailStart = Math.max(start, c.length - m + 1);
        if (k + 1 < this.chunks.length && tailStart < c.length) {
          const joint = this.copyRange(base + tailStart, base + c.length + m - 1);
          const straddle = joint.indexOf(pattern);
          if (straddle >= 0 && straddle < c.length - tailStart) return base + tailStart + straddle;
        }
      }
      base += c.length;
    }
    return -1;
  }

  /** Whether the buffered bytes from `at` equal `pattern` over their common length. */
  agrees(pattern: Uint8Array, at = 0): boolean {
    const n = Math.min(pattern.length, this.length - at);
    for (let i = 0; i < n; i++) if (this.byteAt(at + i) !== pattern[i]) return false;
    return true;
  }

  /** The last index of byte b in [from, length), or -1. */
  lastIndexOfByte(b: number, from: number): number {
    for (let i = this.length - 1; i >= from; i--) if (this.byteAt(i) === b) return i;
    return -1;
  }

  /** A copy of bytes [start, end) (end clipped to what is buffered); for small pieces. */
  copyRange(start: number, end: number): Buffer {
    end = Math.min(end, this.length);
    const out = Buffer.allocUnsafe(Math.max(0, end - start));
    let base = 0;
    for (const c of this.chunks) {
      if (base >= end) break;
      const from = Math.max(start - base, 0);
      const to = Math.min(end - base, c.length);
      if (from < to) c.copy(out, base + from - start, from, to);
      base += c.length;
    }
    return out;
  }

  /** Consumes the first n bytes, handing them over as views of the chunks (no copy). */
  take(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (n > 0) {
      const c = this.chunks[0]!;
      if (c.length <= n) {
        out.push(c);
        this.chunks.shift();
        n -= c.length;
        this.length -= c.length;
      } else {
        out.push(c.subarray(0, n));
        this.chunks[0] = c.subarray(n);
        this.length -= n;
        n = 0;
      }
    }
    return out;
  }

  /** Consumes the first n bytes into one buffer (a copy when they span chunks). */
  takeBytes(n: number): Buffer {
    const parts = this.take(n);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  skip(n: number): void {
    this.take(n);
  }
}
