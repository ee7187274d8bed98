/**
 * Produce: the one path every API takes to write events. Dialects and the native API
 * normalise their input to NewEvent[] and call `produce`; checks that other modules own
 * (schemas, for one) run here as ingest checks, before anything is written.
 */
import { createHash } from 'node:crypto';
import { RivuletError } from '../../kernel/errors.js';
import { internalStreamError, isInternalStream } from '../streams/internal-streams.js';
import type { AppendResult, NewEvent } from '../../kernel/envelope.js';
import type { Store, StreamRecord } from '../../store/port.js';

/** May refuse the batch (throw) or annotate events (e.g. the schema version they matched). */
export type IngestCheck = (stream: StreamRecord, events: NewEvent[]) => Promise<void> | void;

export interface ProduceRequest {
  stream: string;
  events: NewEvent[];
  producer: string | null;
  idempotencyKey?: string;
  /** the raw request body, fingerprinted so a reused Idempotency-Key with another body is refused */
  body?: string | Buffer;
  /**
   * the stream's record as the caller read it for this request, so it is not read (and copied)
   * again; the store still refuses a stream deleted meanwhile
   */
  record?: StreamRecord;
}

export interface ProduceLimits {
  maxBatchEvents: number;
}

export type ProduceListener = (stream: string, result: AppendResult, events: NewEvent[]) => void;

export class ProduceService {
  private readonly checks: IngestCheck[] = [];
  private readonly listeners: ProduceListener[] = [];

  constructor(
    private readonly store: Store,
    private readonly limits: ProduceLimits,
  ) {}

  addIngestCheck(check: IngestCheck): void {
    this.checks.push(check);
  }

  /** observers of committed writes (metrics); they never fail a produce. Answers an unsubscribe. */
  onProduced(listener: ProduceListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /**
   * Writes events a client sent, on any API. Internal streams (`_sink.*`, `_rule.*`, dead
   * letters) are refused here, for every key and every API at once.
   */
  async produce(req: ProduceRequest): Promise<AppendResult> {
    if (isInternalStream(req.stream)) throw internalStreamError(req.stream, 'written');
    return this.append(req);
  }

  /** The server's own writers (attempt logs, rule actions, dead letters): internal streams allowed. */
  async produceInternal(req: ProduceRequest): Promise<AppendResult> {
    return this.append(req);
  }

  private async append(req: ProduceRequest): Promise<AppendResult> {
    if (req.events.length > this.limits.maxBatchEvents) {
      throw new RivuletError(
        'BATCH_TOO_LARGE',
        `a batch may hold at most ${this.limits.maxBatchEvents} events; this one has ${req.events.length}`,
        {
          details: { limit: this.limits.maxBatchEvents, count: req.events.length },
        },
      );
    }
    if (req.idempotencyKey !== undefined && (req.idempotencyKey.length === 0 || req.idempotencyKey.length > 256)) {
      throw new RivuletError('BAD_REQUEST', 'Idempotency-Key must be 1–256 characters', {
        details: { header: 'idempotency-key' },
      });
    }
    const stream = req.record?.name === req.stream ? req.record : await this.store.streams.get(req.stream);
    if (!stream)
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${req.stream}" does not exist`, {
        details: { stream: req.stream },
      });
    for (const check of this.checks) await check(stream, req.events);
    const result = await this.store.events.append({
      stream: req.stream,
      events: req.events,
      producer: req.producer,
      idempotencyKey: req.idempotencyKey,
      requestHash: req.body === undefined ? undefined : createHash('sha256').update(req.body).digest('base64url'),
    });
    if (!result.replayed) for (const listener of this.listeners) listener(req.stream, result, req.events);
    return result;
  }
}
