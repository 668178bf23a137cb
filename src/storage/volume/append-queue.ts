// The order of a volume's appends. A large needle's .dat write runs on libuv's thread pool, so the
// event loop can read other uploads while the kernel copies it; but every append still has to land
// in turn, each record's .idx entry after the previous one's, as weed writes them (a data directory
// moves between weed and us, and loading checks the .idx's tail against the .dat's). So appends,
// and whatever replaces a volume's files, run one at a time through this queue.

export class AppendQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  /** Appends are running or waiting. */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** Runs `task` after everything queued before it has finished (or failed). */
  run<T>(task: () => T | PromiseLike<T>): Promise<T> {
    this.queued++;
    const result = this.tail.then(() => task());
    this.tail = result.then(this.settled, this.settled);
    return result;
  }

  private readonly settled = (): void => {
    this.queued--;
  };
}
