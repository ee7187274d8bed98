/**
 * A bucket's keys under a filter, reported as they change, for as long as the watch runs.
 * Each watch reads through an ordered consumer of its own (new changes only, headers only)
 * that is deleted when the watch stops, and that the server drops by itself 30 s after a
 * process died: the client's `kv.watch()` left its consumer on the server for 5 minutes.
 * When the consumer cannot be set up or fails, the watch is set up again with a growing
 * pause, and `null` is reported first: changes made meanwhile went unseen.
 */
import type { JsonBucket, KeyFeed } from './kv-json.js';

export class KeyWatch {
  private stopped = false;
  private feed: KeyFeed | null = null;
  private wake: (() => void) | null = null;

  /** `onChange`: a changed key (the bucket's raw key), or null for "anything may have changed" */
  constructor(
    private readonly bucket: JsonBucket,
    private readonly filter: string,
    private readonly onChange: (key: string | null) => void,
  ) {
    void this.run();
  }

  /**
   * ends the watch and deletes its consumer. A watch still being set up is not waited for:
   * it stops its feed itself once it has one.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.feed?.stop();
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const feed = await this.bucket.watchKeys(this.filter);
        if (this.stopped) {
          await feed.stop();
          return;
        }
        this.feed = feed;
        attempt = 0;
        // whatever changed before the watch was in place went unreported
        this.onChange(null);
        for await (const key of feed.keys) this.onChange(key);
      } catch {
        // the watch could not be set up or failed: try again below
      } finally {
        await this.feed?.stop();
        this.feed = null;
      }
      if (!this.stopped) await this.pause(Math.min(5_000, 100 * 2 ** attempt));
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
