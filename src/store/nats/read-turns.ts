/**
 * Turns of the event loop shared by every read of a process: each `take()` resolves on a turn
 * of its own, one per pass of the loop (setImmediate), in the order asked. However many reads
 * are decoding at once, one slice of one read runs per pass, and whatever I/O is ready —
 * produce requests, acknowledgements from NATS, live subscribers — runs before the next slice.
 * A flood of reads thus slows reads, and each pass of the loop stays short.
 */
export class ReadTurns {
  private readonly queue: (() => void)[] = [];
  private scheduled = false;

  take(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.release);
      }
    });
  }

  private readonly release = (): void => {
    this.queue.shift()?.();
    if (this.queue.length > 0) setImmediate(this.release);
    else this.scheduled = false;
  };
}
