/**
 * Turns of the event loop shared by every read of a process: each `take()` resolves on a turn
 * of its own, in the order asked, at most one per pass of the loop. However many reads are
 * decoding at once, one slice of one read runs per pass, and whatever I/O is ready — produce
 * requests, acknowledgements from NATS, live subscribers — runs before the next slice.
 *
 * While appends are in flight (`writing()`), reads step back further: a slice runs only every
 * `WRITING_GAP_MS`, so an append waiting for its acknowledgement finds the loop free when the
 * acknowledgement comes, and a flood of reads slows reads rather than writes. Reads never stop:
 * they get at least a slice per gap however busy writes are.
 */
const WRITING_GAP_MS = 2;

export class ReadTurns {
  private readonly queue: (() => void)[] = [];
  private scheduled = false;
  private lastMs = 0;

  constructor(private readonly writing: () => boolean = () => false) {}

  take(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule();
      }
    });
  }

  private schedule(): void {
    const wait = this.writing() ? this.lastMs + WRITING_GAP_MS - performance.now() : 0;
    if (wait > 0) setTimeout(this.release, wait);
    else setImmediate(this.release);
  }

  private readonly release = (): void => {
    this.lastMs = performance.now();
    this.queue.shift()?.();
    if (this.queue.length > 0) this.schedule();
    else this.scheduled = false;
  };
}
