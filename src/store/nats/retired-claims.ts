/**
 * What a consumer's retired claims leave in the bucket, erased once it has served.
 *
 * A claim is retired when its last lease is acked: the head drops it and its entry stays as the
 * last ack left it, empty but naming its range; a claim dropped by a rewind is deleted, and KV
 * keeps a delete marker in its place (see nats-consumer-store.ts). Either way the key reads as
 * written, which is what stops a claim from being rebuilt or written again, and the empty entry
 * tells a receive how far a range whose start it found taken reaches. That matters only while
 * some call could still act on the claim — a rebuild that read the head just before the
 * retirement, a receive whose claim write comes after its lease, a head write that lost a race
 * — which is seconds; kept for ever, there would be one per receive. So the process that
 * retired a claim erases its key (every message of it) `GRACE_MS` later, once sure no head
 * names it (a head write that lost a race may have brought it back). A process that stops
 * first leaves its last few minutes of them behind; deleting the consumer erases them.
 */
/** far beyond a call that read a head before the claim left it, or a write stalled past its lease */
export const GRACE_MS = 10 * 60_000;

/** how many are erased at once */
const PARALLEL = 8;

export class RetiredClaims<T> {
  /** claims in the order they were retired */
  private readonly queue: { claim: T; atMs: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  /** `erase`: makes sure no head names the claim, then erases its key */
  constructor(
    private readonly erase: (claim: T) => Promise<void>,
    private readonly graceMs = GRACE_MS,
  ) {}

  /** claims just retired or deleted */
  retired(claims: Iterable<T>): void {
    const now = Date.now();
    for (const claim of claims) this.queue.push({ claim, atMs: now });
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
    const due: T[] = [];
    while (this.queue.length > 0 && this.queue[0]!.atMs + this.graceMs <= Date.now())
      due.push(this.queue.shift()!.claim);
    for (let i = 0; i < due.length; i += PARALLEL) {
      // a key left behind (the cluster busy) costs a little space, nothing else
      await Promise.all(due.slice(i, i + PARALLEL).map((claim) => this.erase(claim).catch(() => {})));
    }
  }
}
