// Keeps a stream of bytes under a rate (copies and compactions limited by -compactionMBps or the
// request's io_byte_per_second): after each chunk, waits until the bytes so far are due.

export class Throttle {
  private readonly started = Date.now();
  private bytes = 0;

  /** `bytesPerSecond` of 0 or less means unlimited. */
  constructor(private readonly bytesPerSecond: number) {}

  async account(n: number): Promise<void> {
    if (this.bytesPerSecond <= 0) return;
    this.bytes += n;
    const due = this.started + (this.bytes / this.bytesPerSecond) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
