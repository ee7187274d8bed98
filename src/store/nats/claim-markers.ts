/**
 * The delete markers of a consumer's retired claims, erased once they have served.
 *
 * A claim's entry is deleted when the claim is retired (see nats-consumer-store.ts), and KV
 * keeps a delete marker in its place: that is how a receive tells a claim deleted once from one
 * never written, so a retired claim is never rebuilt or written again. The marker matters only
 * while some call could still act on the claim — a rebuild that read the head just before the
 * retirement, a receive whose claim write comes after its lease — which is seconds; kept
 * forever, one marker per receive would grow the bucket without bound. So the process that
 * retired a claim erases its marker `GRACE_MS` later. A process that stops first leaves its
 * markers of the last few minutes behind; deleting the consumer erases them.
 */
import type { JsonBucket } from './kv-json.js';

/** far beyond a call that read a head before the claim left it, or a write stalled past its lease */
export const GRACE_MS = 10 * 60_000;

/** how many markers are erased at once */
const PARALLEL = 8;

export class ClaimMarkers {
  /** claim keys in the order they were retired */
  private readonly queue: { key: string; atMs: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly bucket: JsonBucket,
    private readonly graceMs = GRACE_MS,
  ) {}

  /** the claims just deleted */
  retired(keys: Iterable<string>): void {
    const now = Date.now();
    for (const key of keys) this.queue.push({ key, atMs: now });
    this.schedule();
  }

  /** stops erasing (the store closes); what is left stays in the bucket */
  stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    return this.sweeping ?? Promise.resolve();
  }

  private schedule(): void {
    if (this.timer || this.sweeping || this.queue.length === 0) return;
    const waitMs = Math.max(0, this.queue[0]!.atMs + this.graceMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sweeping = this.sweep().finally(() => {
        this.sweeping = null;
        this.schedule();
      });
    }, waitMs);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    const due: string[] = [];
    while (this.queue.length > 0 && this.queue[0]!.atMs + this.graceMs <= Date.now()) due.push(this.queue.shift()!.key);
    for (let i = 0; i < due.length; i += PARALLEL) {
      // a marker left behind (the cluster busy) costs a little space, nothing else
      await Promise.all(due.slice(i, i + PARALLEL).map((key) => this.bucket.erase(key).catch(() => {})));
    }
  }
}
