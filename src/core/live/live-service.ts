/**
 * Live subscriptions: resolves where a subscription starts, then keeps every subscription
 * of a stream fed. One store watch serves all of them; per followed stream, one tail cache
 * is filled from the store after the notifications of an event-loop turn and the
 * subscriptions take from it.
 * Where the store cannot see appends made by other processes but several processes share it
 * (`multiProcess` without `crossProcessWatch`), followed streams are polled instead.
 */
import { RivuletError } from '../../kernel/errors.js';
import type { Principal } from '../keys/key-service.js';
import type { Store } from '../../store/port.js';
import { LiveSubscription, type LiveReset } from './live-subscription.js';
import { TailCache } from './tail-cache.js';

export type LiveStart =
  | { at: 'tail' }
  /** deliver events with seq > seq */
  | { at: 'after'; seq: number }
  /** deliver from the first event whose time is at or after this (epoch ms), then in seq order */
  | { at: 'time'; timeMs: number };

export interface LiveRequest {
  stream: string;
  start: LiveStart;
  /** only these event types; empty or absent means all */
  types?: string[];
  principal: Principal | null;
}

export interface LiveOptions {
  /** how often followed streams are polled where the store cannot notify across processes */
  pollIntervalMs: number;
  /** events kept per followed stream for subscriptions at the tail */
  tailCacheEvents?: number;
  /**
   * a further say on whether a principal may follow a stream (a dialect's "subscribable"
   * switch); key scopes are checked at the edge before this
   */
  mayFollow?: FollowCheck;
  /**
   * on a store shared by several processes, how often open subscriptions are checked again
   * against the follow checks, so a switch turned off through another process ends them too
   * (default 5000)
   */
  recheckIntervalMs?: number;
}

/** a module's say on whether a principal may follow a stream; every check must agree */
export type FollowCheck = (stream: string, principal: Principal | null) => boolean | Promise<boolean>;

interface Followed {
  subs: Set<LiveSubscription>;
  cache: TailCache;
  /** a fill is due at the end of this turn of the event loop */
  scheduled: boolean;
  filling: boolean;
  refill: boolean;
  hint: number;
  poll: ReturnType<typeof setInterval> | null;
  recheck: ReturnType<typeof setInterval> | null;
}

export class LiveService {
  private readonly followed = new Map<string, Followed>();
  private unwatch: (() => void) | null = null;
  private readonly poll: boolean;
  private readonly followChecks: FollowCheck[] = [];
  /** who opened each subscription, for the follow checks asked again later */
  private readonly principals = new WeakMap<LiveSubscription, Principal | null>();

  constructor(
    private readonly store: Store,
    private readonly options: LiveOptions,
  ) {
    const caps = store.capabilities;
    this.poll = caps.multiProcess && !caps.crossProcessWatch;
    if (options.mayFollow) this.followChecks.push(options.mayFollow);
  }

  /** adds a follow check (a dialect's switch); consulted after the key's scopes, at every subscribe */
  addFollowCheck(check: FollowCheck): void {
    this.followChecks.push(check);
  }

  /** ends every subscription of `stream` with `error` (a follow check that now says no) */
  endFollowers(stream: string, error: RivuletError): void {
    const f = this.followed.get(stream);
    if (!f) return;
    for (const sub of [...f.subs]) sub.fail(error);
  }

  /** subscriptions currently following (for metrics and tests) */
  get size(): number {
    let n = 0;
    for (const f of this.followed.values()) n += f.subs.size;
    return n;
  }

  /**
   * Checks the request and fixes the start position; the subscription delivers nothing
   * until `start(sink)`. Fails with STREAM_NOT_FOUND, FORBIDDEN, VALIDATION_FAILED.
   */
  async subscribe(request: LiveRequest): Promise<LiveSubscription> {
    const { stream } = request;
    const refused = await this.refusal(stream, request.principal);
    if (refused) throw refused;
    const stats = await this.store.events.stats(stream);
    let after: number;
    switch (request.start.at) {
      case 'tail':
        after = stats.lastSeq;
        break;
      case 'after':
        after = request.start.seq;
        break;
      case 'time':
        after = (await this.store.events.seqAtTime(stream, request.start.timeMs)) - 1;
        break;
    }
    let reset: LiveReset | null = null;
    if (after + 1 < stats.firstSeq) {
      reset = { requestedAfter: after, firstSeq: stats.firstSeq };
      after = stats.firstSeq - 1;
    }
    const types = request.types && request.types.length > 0 ? new Set(request.types) : null;
    const followed = this.follow(stream, stats.lastSeq);
    const sub = new LiveSubscription(
      this.store.events,
      stream,
      after,
      types,
      reset,
      () => this.followed.get(stream)?.cache,
      (s) => this.unfollow(s),
      this.store.capabilities.eventJson && this.store.events.readTexts !== undefined,
    );
    followed.subs.add(sub);
    this.principals.set(sub, request.principal);
    return sub;
  }

  private async refusal(stream: string, principal: Principal | null): Promise<RivuletError | null> {
    for (const check of this.followChecks) {
      if (!(await check(stream, principal))) {
        return new RivuletError('FORBIDDEN', `stream "${stream}" does not allow live subscriptions`, {
          details: { stream },
        });
      }
    }
    return null;
  }

  /**
   * asks the follow checks again for every open subscription of `stream`, ending those refused
   * now. The answer depends on the stream and the principal only, so each principal is asked
   * about once however many subscriptions it holds.
   */
  private async recheck(stream: string, f: Followed): Promise<void> {
    const answers = new Map<Principal | null, Promise<RivuletError | null>>();
    for (const sub of [...f.subs]) {
      const principal = this.principals.get(sub) ?? null;
      let answer = answers.get(principal);
      if (!answer) answers.set(principal, (answer = this.refusal(stream, principal)));
      try {
        const refused = await answer;
        if (refused) sub.fail(refused);
      } catch {
        // the check could not be answered (the store is unreachable): ask again next time
      }
    }
  }

  private follow(stream: string, lastSeq: number): Followed {
    let f = this.followed.get(stream);
    if (f) return f;
    const capacity = this.options.tailCacheEvents ?? 1024;
    f = {
      subs: new Set(),
      cache: new TailCache(this.store.events, stream, lastSeq, capacity),
      scheduled: false,
      filling: false,
      refill: false,
      hint: lastSeq,
      poll: null,
      recheck: null,
    };
    this.followed.set(stream, f);
    if (this.store.capabilities.multiProcess && this.followChecks.length > 0) {
      const entry = f;
      entry.recheck = setInterval(() => void this.recheck(stream, entry), this.options.recheckIntervalMs ?? 5000);
      entry.recheck.unref();
    }
    if (this.poll) {
      const entry = f;
      entry.poll = setInterval(() => this.notified(stream, Number.POSITIVE_INFINITY), this.options.pollIntervalMs);
      entry.poll.unref();
    } else {
      this.unwatch ??= this.store.events.watch((s, seq) => this.notified(s, seq));
    }
    return f;
  }

  private unfollow(sub: LiveSubscription): void {
    const f = this.followed.get(sub.stream);
    if (!f) return;
    f.subs.delete(sub);
    if (f.subs.size > 0) return;
    if (f.poll) clearInterval(f.poll);
    if (f.recheck) clearInterval(f.recheck);
    this.followed.delete(sub.stream);
    if (this.followed.size === 0 && this.unwatch) {
      this.unwatch();
      this.unwatch = null;
    }
  }

  private notified(stream: string, seq: number): void {
    const f = this.followed.get(stream);
    if (!f) return;
    f.hint = Math.max(f.hint, seq);
    if (f.filling) {
      f.refill = true;
      return;
    }
    if (f.scheduled) return;
    // Commits that land in the same turn of the event loop (several commit groups answered
    // while the loop was busy writing) become one read and one write per subscriber. When the
    // loop is idle this waits only for the rest of the current turn.
    f.scheduled = true;
    setImmediate(() => {
      f.scheduled = false;
      if (this.followed.get(stream) !== f) return;
      if (f.filling) {
        f.refill = true;
        return;
      }
      f.filling = true;
      void this.fill(stream, f);
    });
  }

  /** one fill at a time per stream, so the cache stays contiguous */
  private async fill(stream: string, f: Followed): Promise<void> {
    try {
      do {
        f.refill = false;
        const hint = f.hint;
        f.hint = 0;
        let added: boolean;
        try {
          added = await f.cache.fill(hint);
        } catch (err) {
          // the stream went away or the store failed: its subscriptions end with the reason
          for (const sub of [...f.subs]) sub.fail(err);
          return;
        }
        if (added) for (const sub of f.subs) sub.wake();
      } while (f.refill && this.followed.get(stream) === f);
    } finally {
      f.filling = false;
    }
  }
}
