/**
 * One source of one sink: receives from the sink's leased consumer on one stream (or a side
 * job's consumer), filters, transforms, forms batches and hands them to the target, then
 * settles each event: ack when delivered, retry (in process for ordered delivery, nack with
 * the backoff delay for parallel delivery), or dead-letter with the last error and ack.
 */
import { createHash } from 'node:crypto';
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject, JsonValue, NewEvent, StoredEvent } from '../../kernel/envelope.js';
import { deadLetterStreamFor, type AttemptRecord, type SinkJob } from '../../core/sinks/sink-model.js';
import type { Delivery } from '../../store/port.js';
import { decideRetry } from '../backoff.js';
import type { BatchOutcome, DeliveryItem, ItemOutcome } from '../targets/target.js';
import { describeError } from '../targets/http-target.js';
import { AttemptDeadlines } from './attempt-deadlines.js';
import type { RunnerContext } from './runner-context.js';
import { sleep } from './token-bucket.js';

interface Prepared {
  delivery: Delivery;
  item: DeliveryItem;
  bytes: number;
  /** attempts made in this process beyond the delivery count (ordered retries) */
  localRetries: number;
}

const MAX_LEASE_MS = 12 * 3600_000;
/** events leased and buffered ahead of delivery, at most (the most one receive may ask for) */
const PREFETCH = 1000;
/**
 * Acks are durable writes whose cost is mostly per transaction (a commit, with strict
 * durability an fsync), so they are gathered: sent when this many are waiting, or ACK_DELAY_MS
 * after the first. Delaying an ack only widens what a crash would deliver again.
 */
const ACK_BATCH = 1000;
const ACK_DELAY_MS = 100;
/**
 * Nacks are gathered the same way, grouped by their delay rounded up to this step: a receiver
 * that fails every request would otherwise cost a durable write per failed attempt, and those
 * writes queue with every other sink's and with ingest.
 */
const NACK_STEP_MS = 50;

export interface SourceSpec {
  stream: string;
  consumer: string;
  job?: SinkJob;
}

export class SourceLoop {
  private readonly stop = new AbortController();
  private readonly hardStop = new AbortController();
  private readonly inflight = new Set<Promise<void>>();
  /** wakes dispatchReady when an in-flight batch ends (one waiter, instead of a Promise.race per dispatch) */
  private slotFreed: (() => void) | null = null;
  private readonly deadlines: AttemptDeadlines;
  private readonly buffer: Prepared[] = [];
  private bufferSince = 0;
  private toAck: string[] = [];
  /** lease tokens received and not yet settled: renewed while this process lives */
  private readonly held = new Set<string>();
  private renewTimer: NodeJS.Timeout | null = null;
  private renewing = false;
  private ackTimer: NodeJS.Timeout | null = null;
  private toNack = new Map<number, { tokens: string[]; since: number }>();
  private nackTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly ctx: RunnerContext,
    readonly source: SourceSpec,
  ) {
    this.deadlines = new AttemptDeadlines(ctx.sink.policy.timeoutMs, this.hardStop.signal);
  }

  private get policy() {
    return this.ctx.sink.policy;
  }

  private get maxBatch(): number {
    return Math.max(1, Math.min(this.ctx.target.maxBatchEvents, this.policy.batch.maxEvents));
  }

  /**
   * Events are leased for as long as the sink's ownership lease and renewed every third of
   * it while held (buffered, in flight, waiting for an ordered retry). A process that dies
   * stops renewing both, so the process that takes the sink over finds what was in flight
   * deliverable again about when it gets the sink, not after a long per-attempt lease.
   */
  private get leaseMs(): number {
    return Math.min(MAX_LEASE_MS, Math.max(1000, this.ctx.ownerLeaseMs));
  }

  start(): void {
    this.renewTimer ??= setInterval(() => void this.renewHeld(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.running ??= this.run().catch((err: unknown) =>
      this.ctx.log.error({ err, stream: this.source.stream }, 'sink source stopped by an unexpected error'),
    );
  }

  /** the stream has new events */
  notify(): void {
    this.wake?.();
  }

  /** stops receiving, lets in-flight attempts end (cut after a grace period), gives back the rest */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort();
      this.wake?.();
      const grace = setTimeout(() => this.hardStop.abort(), Math.min(this.policy.timeoutMs, this.ctx.closeGraceMs));
      await this.running;
      clearTimeout(grace);
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      const unsent = this.buffer.splice(0).map((p) => p.delivery.leaseToken);
      if (unsent.length > 0) await this.release(unsent);
      await this.flushAcks();
      await this.flushNacks();
      if (this.renewTimer) clearInterval(this.renewTimer);
    })();
    return this.closing;
  }

  private async run(): Promise<void> {
    const concurrency = this.policy.ordering === 'ordered' ? 1 : this.policy.concurrency;
    // receives and acks are durable writes: fetch and settle in bulk rather than per event.
    // dispatchReady sends the whole buffer before it returns, so each receive asks for about
    // PREFETCH less what is in flight. With nothing in flight, a first small receive gets
    // requests going before the next large one is leased and prepared.
    const ramp = Math.max(32, this.maxBatch * concurrency * 2);
    let reachedEnd = false;
    while (!this.stop.signal.aborted) {
      const free = PREFETCH - this.buffer.length - this.inflight.size * this.maxBatch;
      const room = this.inflight.size === 0 && this.buffer.length === 0 ? Math.min(free, ramp) : free;
      let received = 0;
      if (room > 0 && !reachedEnd) {
        let got: Delivery[] = [];
        try {
          got = await this.ctx.consumers.receive(this.source.stream, this.source.consumer, {
            max: room,
            leaseMs: this.leaseMs,
            clientId: this.ctx.holder,
          });
        } catch (err) {
          if (this.source.job === undefined && isMissingSource(err)) {
            if (!(await this.awaitSource())) break;
            continue;
          }
          this.ctx.log.warn({ err, stream: this.source.stream }, 'sink receive failed');
          await this.idle(this.ctx.idlePollMs * 4);
          continue;
        }
        received = got.length;
        for (const d of got) this.held.add(d.leaseToken);
        const beyond: string[] = [];
        for (const d of got) {
          if (this.source.job !== undefined && d.event.seq > this.source.job.toSeq) {
            beyond.push(d.leaseToken);
            reachedEnd = true;
            continue;
          }
          await this.admit(d);
        }
        if (beyond.length > 0) await this.release(beyond);
      }
      const dispatched = await this.dispatchReady(concurrency, received === 0);
      if (received === 0 && !dispatched) {
        if (this.source.job !== undefined && this.inflight.size === 0 && this.buffer.length === 0) {
          if (await this.jobDone(reachedEnd)) return;
          // events up to toSeq are still out (leased by a loop that stopped): receive again
          reachedEnd = false;
        }
        await this.idle(
          this.buffer.length > 0
            ? Math.max(1, this.bufferSince + this.policy.batch.maxAgeMs - Date.now())
            : this.ctx.idlePollMs,
        );
      }
    }
    await Promise.allSettled([...this.inflight]);
  }

  /** filters and transforms one received event into the buffer (or settles it at once) */
  private async admit(d: Delivery): Promise<void> {
    const event = this.originalOf(d.event);
    if (event === null) {
      this.ack(d.leaseToken);
      return;
    }
    const passed = await this.ctx.filter.check(event);
    if (!passed.matched) {
      this.ctx.stats.add(this.ctx.sink.id, 'filtered');
      this.ack(d.leaseToken);
      return;
    }
    const item: DeliveryItem = {
      event,
      payload: null,
      deliveryId: deliveryIdOf(this.ctx.sink.id, event),
      attempt: d.deliveries,
    };
    try {
      // without a transform the payload is the event's data; a transform sees the whole envelope
      item.payload = this.ctx.transform.source === undefined ? event.data : await this.ctx.transform.apply(event);
    } catch (err) {
      await this.settle(
        { delivery: d, item, bytes: 0, localRetries: 0 },
        { outcome: 'permanent', error: `transform failed: ${describeError(err)}` },
        null,
        0,
      );
      return;
    }
    // sizes only split batches; a one-event batch is sized by the target as it sends it
    const bytes = this.maxBatch === 1 ? 0 : Buffer.byteLength(JSON.stringify(item.payload));
    if (this.buffer.length === 0) this.bufferSince = Date.now();
    this.buffer.push({ delivery: d, item, bytes, localRetries: 0 });
  }

  /** a dead-letter job sees dead-letter copies: deliver the original event, only this sink's */
  private originalOf(event: StoredEvent): StoredEvent | null {
    if (this.source.job?.kind !== 'dead-letters') return event;
    const dl = (event.meta as { deadLetter?: { sink?: unknown; stream?: unknown; seq?: unknown; id?: unknown } })
      .deadLetter;
    if (
      dl === undefined ||
      dl.sink !== this.ctx.sink.id ||
      typeof dl.stream !== 'string' ||
      typeof dl.seq !== 'number' ||
      typeof dl.id !== 'string'
    )
      return null;
    const { deadLetter: _dropped, ...meta } = event.meta as JsonObject & { deadLetter?: JsonValue };
    return { ...event, stream: dl.stream, seq: dl.seq, id: dl.id, meta };
  }

  /** sends full batches (and a partial one whose time is up); answers whether it sent any */
  private async dispatchReady(concurrency: number, drained: boolean): Promise<boolean> {
    let sent = false;
    for (;;) {
      while (this.inflight.size >= concurrency) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
        });
      }
      // once stopping, what is buffered is given back (close), not sent
      if (this.stop.signal.aborted) return sent;
      const batch = this.nextBatch(drained);
      if (batch === null) return sent;
      const p: Promise<void> = this.runBatch(batch)
        .catch((err: unknown) => this.ctx.log.error({ err }, 'sink batch failed unexpectedly'))
        .finally(() => {
          this.inflight.delete(p);
          const freed = this.slotFreed;
          this.slotFreed = null;
          freed?.();
          this.wake?.();
        });
      this.inflight.add(p);
      sent = true;
    }
  }

  private nextBatch(drained: boolean): Prepared[] | null {
    if (this.buffer.length === 0) return null;
    const max = this.maxBatch;
    let count = 0;
    let bytes = 0;
    while (
      count < this.buffer.length &&
      count < max &&
      (count === 0 || bytes + this.buffer[count]!.bytes <= this.policy.batch.maxBytes)
    ) {
      bytes += this.buffer[count]!.bytes;
      count++;
    }
    const full = count === max || count < this.buffer.length;
    const due =
      max === 1 ||
      Date.now() - this.bufferSince >= this.policy.batch.maxAgeMs ||
      (drained && this.policy.batch.maxAgeMs === 0);
    if (!full && !due) return null;
    const batch = this.buffer.splice(0, count);
    this.bufferSince = Date.now();
    return batch;
  }

  private async runBatch(initial: Prepared[]): Promise<void> {
    let batch = initial;
    while (batch.length > 0) {
      if (this.ctx.bucket !== null) await this.ctx.bucket.take(batch.length, this.hardStop.signal);
      for (const p of batch) p.item.attempt = p.delivery.deliveries + p.localRetries;
      const deadline = this.deadlines.begin();
      let outcome: BatchOutcome;
      try {
        outcome = await this.ctx.target.deliver(
          batch.map((p) => p.item),
          { signal: deadline.signal, sinkId: this.ctx.sink.id },
        );
      } finally {
        deadline.done();
      }
      if (this.hardStop.signal.aborted) {
        // cut by shutdown: not an attempt that says anything about the receiver
        await this.release(batch.map((p) => p.delivery.leaseToken));
        return;
      }
      const again: Prepared[] = [];
      let waitMs = 0;
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!;
        const o = outcome.items[i] ?? { outcome: 'retry', error: 'the target gave no outcome for this event' };
        const retryIn = await this.settle(
          p,
          o,
          outcome.status ?? null,
          outcome.latencyMs,
          batch.length === 1 ? outcome.bytes : p.bytes,
        );
        if (retryIn !== null) {
          p.localRetries++;
          again.push(p);
          waitMs = Math.max(waitMs, retryIn);
        }
      }
      if (again.length === 0 || this.stop.signal.aborted) {
        if (again.length > 0) await this.release(again.map((p) => p.delivery.leaseToken));
        return;
      }
      // ordered: hold the events (and everything behind them) and try again in process
      await this.ctx.consumers
        .extend(
          this.source.stream,
          this.source.consumer,
          again.map((p) => p.delivery.leaseToken),
          Math.min(MAX_LEASE_MS, waitMs + this.leaseMs),
        )
        .catch(() => undefined);
      await sleep(waitMs, this.stop.signal);
      batch = again;
    }
  }

  /**
   * Records the attempt and settles the event. Answers the delay before an in-process retry
   * (ordered delivery), or null when the event is settled (acked, nacked or dead-lettered).
   */
  private async settle(
    p: Prepared,
    o: ItemOutcome,
    status: number | null,
    latencyMs: number,
    bytes = p.bytes,
  ): Promise<number | null> {
    const sinkId = this.ctx.sink.id;
    const now = new Date();
    const attempt = p.item.attempt;
    const seq = p.delivery.event.seq;
    const { event, deliveryId } = p.item;
    const at = now.toISOString();
    if (o.outcome === 'success') {
      this.ctx.stats.delivered(sinkId, bytes, status, latencyMs, now);
      // built whole rather than spread from a base: this is the path every delivery takes
      this.log({
        sink: sinkId,
        stream: event.stream,
        seq: event.seq,
        eventId: event.id,
        deliveryId,
        attempt,
        latencyMs: Math.round(latencyMs),
        at,
        outcome: 'success',
        status,
        error: null,
        action: 'delivered',
      });
      this.ack(p.delivery.leaseToken);
      return null;
    }
    const base = {
      sink: sinkId,
      stream: event.stream,
      seq: event.seq,
      eventId: event.id,
      deliveryId,
      attempt,
      latencyMs: Math.round(latencyMs),
      at,
    };
    const itemStatus = o.status ?? status;
    this.ctx.stats.add(sinkId, 'failed');
    this.ctx.stats.error(sinkId, o.error, itemStatus, now);
    // kept by the consumer, so the age survives a restart or a move to another process
    const decision = decideRetry(this.policy.retry, {
      outcome: o.outcome,
      attempt,
      firstAttemptAt: p.delivery.firstDeliveredMs,
      now: now.getTime(),
      ...(o.retryAfterMs === undefined ? {} : { retryAfterMs: o.retryAfterMs }),
    });
    if (decision.retry) {
      this.ctx.stats.add(sinkId, 'retried');
      this.log({
        ...base,
        outcome: o.outcome,
        status: itemStatus,
        error: o.error,
        action: `retry in ${decision.delayMs} ms`,
      });
      if (this.policy.ordering === 'ordered') return decision.delayMs;
      this.nack(p.delivery.leaseToken, decision.delayMs);
      this.wakeAt(decision.delayMs);
      return null;
    }
    this.log({
      ...base,
      outcome: o.outcome,
      status: itemStatus,
      error: o.error,
      action: `dead-lettered (${decision.reason})`,
    });
    try {
      await this.deadLetter(p, o.error, itemStatus, attempt, decision.reason);
      this.ctx.stats.add(sinkId, 'deadLettered');
      this.ack(p.delivery.leaseToken);
    } catch (err) {
      this.ctx.log.warn(
        { err, stream: this.source.stream, seq },
        'could not dead-letter an event; it will be tried again',
      );
      this.held.delete(p.delivery.leaseToken);
      await this.ctx.consumers
        .nack(this.source.stream, this.source.consumer, [p.delivery.leaseToken], 1000)
        .catch(() => undefined);
    }
    return null;
  }

  private async deadLetter(
    p: Prepared,
    error: string,
    status: number | null,
    attempts: number,
    reason: string,
  ): Promise<void> {
    const sink = this.ctx.sink;
    const event = p.item.event;
    const target = deadLetterStreamFor(sink, event.stream);
    await this.ctx.ensureStream(target, `dead letters of sink "${sink.id}"`);
    const generation = this.source.job?.kind === 'dead-letters' ? sink.deadLetterGeneration : 0;
    const dl: NewEvent = {
      id: createHash('sha256')
        .update(`${sink.id}\n${event.stream}\n${event.seq}\n${generation}`)
        .digest('hex')
        .slice(0, 32),
      idSupplied: true,
      type: event.type,
      source: event.source,
      time: event.time,
      producer: null,
      data: event.data,
      meta: {
        ...event.meta,
        deadLetter: {
          sink: sink.id,
          stream: event.stream,
          seq: event.seq,
          id: event.id,
          error,
          status,
          attempts,
          reason,
          at: new Date().toISOString(),
        },
      },
    };
    await this.ctx.produce.produceInternal({ stream: target, events: [dl], producer: null });
  }

  private log(record: Omit<AttemptRecord, 'status' | 'error'> & { status: number | null; error: string | null }): void {
    this.ctx.attempts.record(this.ctx.sink.owner, record as AttemptRecord);
  }

  private ack(token: string): void {
    this.held.delete(token);
    this.toAck.push(token);
    if (this.toAck.length >= ACK_BATCH) void this.flushAcks();
    else this.ackTimer ??= setTimeout(() => void this.flushAcks(), ACK_DELAY_MS);
  }

  /** the event comes again after `delayMs`; sent with others within ACK_DELAY_MS, the wait counted in */
  private nack(token: string, delayMs: number): void {
    this.held.delete(token);
    const step = Math.ceil(Math.min(delayMs, MAX_LEASE_MS) / NACK_STEP_MS) * NACK_STEP_MS;
    let group = this.toNack.get(step);
    if (group === undefined) {
      group = { tokens: [], since: Date.now() };
      this.toNack.set(step, group);
    }
    group.tokens.push(token);
    if (group.tokens.length >= ACK_BATCH) void this.flushNacks();
    else this.nackTimer ??= setTimeout(() => void this.flushNacks(), ACK_DELAY_MS);
  }

  private async flushNacks(): Promise<void> {
    if (this.nackTimer) clearTimeout(this.nackTimer);
    this.nackTimer = null;
    const groups = this.toNack;
    this.toNack = new Map();
    for (const [delayMs, group] of groups) {
      // a nack that fails leaves the lease to run out: the event comes again, at least once
      await this.ctx.consumers
        .nack(this.source.stream, this.source.consumer, group.tokens, Math.max(0, delayMs - (Date.now() - group.since)))
        .catch(() => undefined);
    }
  }

  private async release(tokens: string[]): Promise<void> {
    for (const t of tokens) this.held.delete(t);
    await this.ctx.consumers.release(this.source.stream, this.source.consumer, tokens).catch(() => undefined);
  }

  /** extends the leases of everything held; a token settled meanwhile answers not-held, which is fine */
  private async renewHeld(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      const tokens = [...this.held];
      for (let i = 0; i < tokens.length; i += 1000) {
        await this.ctx.consumers.extend(
          this.source.stream,
          this.source.consumer,
          tokens.slice(i, i + 1000),
          this.leaseMs,
        );
      }
    } catch (err) {
      this.ctx.log.warn({ err, stream: this.source.stream }, 'sink could not renew its event leases');
    } finally {
      this.renewing = false;
    }
  }

  private async flushAcks(): Promise<void> {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const tokens = this.toAck;
    this.toAck = [];
    if (tokens.length === 0) return;
    try {
      await this.ctx.consumers.ack(this.source.stream, this.source.consumer, tokens);
    } catch (err) {
      // the leases run out and the events come again: at least once
      this.ctx.log.warn({ err, stream: this.source.stream }, 'sink ack failed');
    }
  }

  /**
   * A job is done once its consumer's committed position reaches toSeq, or, when nothing past
   * toSeq was seen, once nothing is pending (the stream ends before toSeq). Seeing an event past
   * toSeq is not enough: an earlier one may still be leased by a loop that stopped (a restart),
   * and comes back when that lease ends.
   */
  private async jobDone(reachedEnd: boolean): Promise<boolean> {
    const job = this.source.job!;
    await this.flushAcks();
    // a lag that cannot be read says nothing: the job goes on (finishing it would drop what is left)
    const lag = await this.ctx.consumers.lag(this.source.stream, this.source.consumer).catch((err: unknown) => {
      this.ctx.log.warn({ err, stream: this.source.stream }, 'sink job: could not read its progress; trying again');
      return null;
    });
    if (lag === null) return false;
    if (lag.committedSeq < job.toSeq && (reachedEnd || lag.pending > 0)) return false;
    await this.ctx.finishJob(job);
    return true;
  }

  /**
   * The source stream does not exist (not yet, or not any more) or the sink has no consumer on
   * it: wait until it exists and the consumer is in place (from the stream's beginning). The
   * stream is looked for every few idle polls, and at once when the store announces events on
   * it. Answers false when the loop should end: it was closed, or the stream is no longer the
   * sink's source (a newer record of the sink is on its way to the engine).
   */
  private async awaitSource(): Promise<boolean> {
    let announced = false;
    while (!this.stop.signal.aborted) {
      let readiness;
      try {
        readiness = await this.ctx.sourceReady(this.source.stream);
      } catch (err) {
        this.ctx.log.warn({ err, stream: this.source.stream }, 'sink could not check its source stream');
        readiness = 'waiting' as const;
      }
      if (readiness === 'gone') return false;
      if (readiness === 'ready') {
        if (announced)
          this.ctx.log.info(
            { stream: this.source.stream },
            'source stream appeared; sink delivers it from its beginning',
          );
        return true;
      }
      if (!announced)
        this.ctx.log.info({ stream: this.source.stream }, 'sink waits for its source stream to be created');
      announced = true;
      await this.idle(this.ctx.idlePollMs * 4);
    }
    return false;
  }

  private wakeAt(ms: number): void {
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.wake?.();
      },
      Math.max(1, ms),
    );
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      if (this.stop.signal.aborted) done();
    });
  }
}

function isMissingSource(err: unknown): boolean {
  return err instanceof RivuletError && (err.code === 'STREAM_NOT_FOUND' || err.code === 'CONSUMER_NOT_FOUND');
}

/** Stable across retries, redeliveries and restarts: the receivers' de-duplication key. */
export function deliveryIdOf(sinkId: string, event: Pick<StoredEvent, 'stream' | 'seq'>): string {
  return `msg_${createHash('sha256').update(`${sinkId}\n${event.stream}\n${event.seq}`).digest('base64url').slice(0, 27)}`;
}
