/**
 * Group commit: appends that arrive while the event loop is busy are written in one
 * transaction with one fsync. Each request runs inside its own savepoint, so one
 * request's failure (say, a locked stream) does not fail its neighbours; a failed
 * commit fails them all, and none of them was acknowledged.
 */
import type { Database } from 'better-sqlite3';

interface Pending<Req, Res> {
  request: Req;
  resolve: (result: Res) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitStats {
  commits: number;
  requests: number;
  lastBatchSize: number;
  lastCommitMs: number;
}

export class GroupCommitter<Req, Res> {
  private pending: Pending<Req, Res>[] = [];
  private scheduled = false;
  readonly stats: GroupCommitStats = { commits: 0, requests: 0, lastBatchSize: 0, lastCommitMs: 0 };

  constructor(
    private readonly db: Database,
    /** applies one request inside the open transaction; throws to roll back only that request */
    private readonly apply: (request: Req, nowMs: number) => Res,
    /** runs after a successful commit, outside the transaction */
    private readonly afterCommit: (results: Res[]) => void,
    /** turns a failed commit into the error every waiting request receives */
    private readonly commitError: (err: unknown) => unknown,
    private readonly maxBatch = 1000,
  ) {}

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate lets every request already parsed in this loop turn join the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** resolves once everything submitted so far has been committed or failed */
  async drain(): Promise<void> {
    // flush() is synchronous, so nothing is half-written between loop turns.
    while (this.pending.length > 0 || this.scheduled) {
      await new Promise((r) => setImmediate(r));
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; value: Res } | { ok: false; error: unknown })[] = [];
    const started = performance.now();
    const nowMs = Date.now();
    const one = this.db.transaction((req: Req) => this.apply(req, nowMs));
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: one(item.request) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (err) {
      const error = this.commitError(err);
      for (const item of batch) item.reject(error);
      return;
    }
    this.stats.commits++;
    this.stats.requests += batch.length;
    this.stats.lastBatchSize = batch.length;
    this.stats.lastCommitMs = performance.now() - started;
    const committed: Res[] = [];
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        committed.push(outcome.value);
        item.resolve(outcome.value);
      } else {
        item.reject(outcome.error);
      }
    });
    if (committed.length > 0) this.afterCommit(committed);
  }
}
