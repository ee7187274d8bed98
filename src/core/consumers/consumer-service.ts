/**
 * Consumers: named, durable read positions on a stream, in two styles over one state.
 * - cursor: `peek` the events after the committed position, `commit` to move it;
 *   `commitNext` accepts only the next event (the event server's in-order ACK).
 * - leased: `receive` events under a lease; `ack`, `nack`, `release`, `extend` each one.
 *   An event whose last lease ran out after `maxDeliveries` is appended to the dead-letter
 *   stream with the reason and delivery count, then acknowledged.
 */
import { createHash } from 'node:crypto';
import { RivuletError } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import type { JsonObject, NewEvent, StoredEvent } from '../../kernel/envelope.js';
import type { ProduceService } from '../events/produce.js';
import type { StreamService } from '../streams/stream-service.js';
import type { ConsumerRecord, Delivery, LeaseOutcome, Store, StartPosition } from '../../store/port.js';
import {
  assertLeaseMs,
  assertStart,
  consumerDefinition,
  deadLetterStreamOf,
  type ConsumerInput,
} from './consumer-rules.js';
import type { ConsumerLagView } from './consumer-lag.js';

export const MAX_RECEIVE = 1000;

export interface ReceiveOptions {
  max: number;
  /** overrides the consumer's lease for this receive */
  leaseMs?: number;
  clientId?: string | null;
}

export interface TokenOutcome {
  token: string;
  outcome: LeaseOutcome;
}

export class ConsumerService {
  constructor(
    private readonly store: Store,
    private readonly streams: StreamService,
    private readonly produce: ProduceService,
    private readonly clock: Clock,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  async create(stream: string, input: ConsumerInput): Promise<ConsumerRecord> {
    const def = consumerDefinition(stream, input);
    const start = input.start ?? { from: 'beginning' };
    assertStart(start, '/start');
    return this.store.consumers.create(def, start, this.now());
  }

  /** the consumer, created from `input` when it does not exist yet */
  async ensure(stream: string, input: ConsumerInput): Promise<ConsumerRecord> {
    const existing = await this.store.consumers.get(stream, input.name);
    if (existing) return existing;
    try {
      return await this.create(stream, input);
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONSUMER_EXISTS') return this.get(stream, input.name);
      throw err;
    }
  }

  async get(stream: string, name: string): Promise<ConsumerRecord> {
    const found = await this.store.consumers.get(stream, name);
    if (found) return found;
    await this.streams.require(stream);
    throw new RivuletError('CONSUMER_NOT_FOUND', `stream "${stream}" has no consumer "${name}"`, {
      details: { stream, consumer: name },
    });
  }

  async list(
    stream: string,
    options: { after?: string; limit: number },
  ): Promise<{ consumers: ConsumerRecord[]; next: string | null }> {
    const consumers = await this.store.consumers.list(stream, options);
    const next = consumers.length === options.limit ? consumers[consumers.length - 1]!.name : null;
    return { consumers, next };
  }

  async delete(stream: string, name: string): Promise<void> {
    if (!(await this.store.consumers.delete(stream, name))) {
      throw new RivuletError('CONSUMER_NOT_FOUND', `stream "${stream}" has no consumer "${name}"`, {
        details: { stream, consumer: name },
      });
    }
  }

  async peek(stream: string, name: string, limit: number): Promise<StoredEvent[]> {
    assertCount(limit, 'limit');
    return this.store.consumers.peek(stream, name, limit);
  }

  async commit(stream: string, name: string, seq: number): Promise<ConsumerRecord> {
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new RivuletError('VALIDATION_FAILED', 'seq must be a non-negative integer', {
        details: { pointer: '/seq' },
      });
    }
    return this.store.consumers.commit(stream, name, seq, this.now());
  }

  /**
   * Commits `eventId` only when it is the next event the consumer would read. Otherwise
   * OFFSET_MISMATCH, whose details give both positions as seqs and as per-type seqs (the
   * event server's numbering, meaningful for a consumer of one type).
   */
  async commitNext(
    stream: string,
    name: string,
    eventId: string,
  ): Promise<{ event: StoredEvent; consumer: ConsumerRecord }> {
    const event = await this.store.events.getById(stream, eventId);
    if (!event)
      throw new RivuletError('EVENT_NOT_FOUND', `stream "${stream}" has no event with id "${eventId}"`, {
        details: { stream, id: eventId },
      });
    const consumer = await this.get(stream, name);
    const [next] = await this.store.consumers.peek(stream, name, 1);
    if (!next || next.seq !== event.seq) {
      const committed =
        consumer.committedSeq === 0 ? null : await this.store.events.getBySeq(stream, consumer.committedSeq);
      const committedTypeSeq = committed?.typeSeq ?? (next ? next.typeSeq - 1 : 0);
      throw new RivuletError('OFFSET_MISMATCH', `the next event for consumer "${name}" is not ${eventId}`, {
        details: {
          committedSeq: consumer.committedSeq,
          eventSeq: event.seq,
          committedTypeSeq,
          eventTypeSeq: event.typeSeq,
        },
      });
    }
    return { event, consumer: await this.store.consumers.commit(stream, name, event.seq, this.now()) };
  }

  async receive(stream: string, name: string, options: ReceiveOptions): Promise<Delivery[]> {
    assertCount(options.max, 'max');
    const consumer = await this.get(stream, name);
    const leaseMs = options.leaseMs ?? consumer.leaseMs;
    assertLeaseMs(leaseMs, '/leaseMs');
    const out: Delivery[] = [];
    // Dead-lettered events take room in a receive; ask again (a bounded number of times) to fill it.
    for (let round = 0; round < 4 && out.length < options.max; round++) {
      const got = await this.store.consumers.receive(stream, name, {
        max: options.max - out.length,
        leaseMs,
        clientId: options.clientId ?? null,
        nowMs: this.now(),
      });
      out.push(...got.deliveries);
      if (got.exhausted.length === 0) break;
      await this.deadLetter(consumer, got.exhausted);
    }
    return out;
  }

  async ack(stream: string, name: string, tokens: string[]): Promise<TokenOutcome[]> {
    assertTokens(tokens);
    return zip(tokens, await this.store.consumers.ack(stream, name, tokens, this.now()));
  }

  async nack(stream: string, name: string, tokens: string[], delayMs = 0): Promise<TokenOutcome[]> {
    assertTokens(tokens);
    if (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > 12 * 3600_000) {
      throw new RivuletError('VALIDATION_FAILED', 'delayMs must be 0–43200000', { details: { pointer: '/delayMs' } });
    }
    return zip(tokens, await this.store.consumers.nack(stream, name, tokens, delayMs, this.now()));
  }

  async release(stream: string, name: string, tokens: string[]): Promise<TokenOutcome[]> {
    assertTokens(tokens);
    return zip(tokens, await this.store.consumers.release(stream, name, tokens, this.now()));
  }

  async extend(stream: string, name: string, tokens: string[], leaseMs?: number): Promise<TokenOutcome[]> {
    assertTokens(tokens);
    const ms = leaseMs ?? (await this.get(stream, name)).leaseMs;
    assertLeaseMs(ms, '/leaseMs');
    return zip(tokens, await this.store.consumers.extend(stream, name, tokens, ms, this.now()));
  }

  async seek(stream: string, name: string, start: StartPosition): Promise<ConsumerRecord> {
    assertStart(start, '');
    return this.store.consumers.seek(stream, name, start, this.now());
  }

  async lag(stream: string, name: string): Promise<ConsumerLagView> {
    const now = this.now();
    const lag = await this.store.consumers.lag(stream, name, now);
    return { ...lag, oldestUnackedAgeMs: lag.oldestUnackedMs === null ? null : Math.max(0, now - lag.oldestUnackedMs) };
  }

  /**
   * Appends exhausted events to the dead-letter stream, then acks them. The dead-letter copy
   * has an id derived from (stream, consumer, seq), so a retry after a crash between the two
   * steps is de-duplicated rather than written twice.
   */
  private async deadLetter(consumer: ConsumerRecord, exhausted: (Delivery & { reason: string })[]): Promise<void> {
    const target = deadLetterStreamOf(consumer);
    const source = await this.streams.require(consumer.stream);
    await this.streams.ensureInternal(
      { name: target, description: `dead letters of stream "${consumer.stream}"` },
      source.owner,
    );
    const events: NewEvent[] = exhausted.map(({ event, deliveries, reason }) => {
      const deadLetter: JsonObject = {
        stream: event.stream,
        seq: event.seq,
        id: event.id,
        consumer: consumer.name,
        reason,
        deliveries,
        at: new Date(this.now()).toISOString(),
      };
      return {
        id: createHash('sha256').update(`${event.stream}\n${consumer.name}\n${event.seq}`).digest('hex').slice(0, 32),
        idSupplied: true,
        type: event.type,
        source: event.source,
        time: event.time,
        producer: null,
        data: event.data,
        meta: { ...event.meta, deadLetter },
      };
    });
    await this.produce.produceInternal({ stream: target, events, producer: null });
    await this.store.consumers.ack(
      consumer.stream,
      consumer.name,
      exhausted.map((d) => d.leaseToken),
      this.now(),
    );
  }
}

function assertCount(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_RECEIVE) {
    throw new RivuletError('VALIDATION_FAILED', `${name} must be 1–${MAX_RECEIVE}`, {
      details: { pointer: `/${name}` },
    });
  }
}

function assertTokens(tokens: string[]): void {
  if (
    tokens.length === 0 ||
    tokens.length > MAX_RECEIVE ||
    tokens.some((t) => typeof t !== 'string' || t.length === 0 || t.length > 100)
  ) {
    throw new RivuletError('VALIDATION_FAILED', `send 1–${MAX_RECEIVE} lease tokens`, {
      details: { pointer: '/tokens' },
    });
  }
}

function zip(tokens: string[], outcomes: LeaseOutcome[]): TokenOutcome[] {
  return tokens.map((token, i) => ({ token, outcome: outcomes[i]! }));
}
