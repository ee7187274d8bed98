/**
 * The `stream` target: writes the (filtered, transformed) events into another stream through
 * the same produce path as the API, so that stream's ingest checks (schemas) apply. Each
 * written event's id is the delivery id, derived from (sink, source stream, seq), and marked
 * as supplied: a redelivery after a crash is de-duplicated by the store, not written twice.
 * The new event keeps type, source and time (type can be overridden), its data is the
 * payload, and its meta records where it came from (`meta.origin`).
 */
import { isRivuletError } from '../../kernel/errors.js';
import type { ErrorCode } from '../../kernel/errors.js';
import type { JsonObject, NewEvent } from '../../kernel/envelope.js';
import type { ProduceService } from '../../core/events/produce.js';
import { isInternalStream } from '../../core/streams/internal-streams.js';
import { isStreamName } from '../../core/streams/stream-name.js';
import { ConfigReader } from './target-config.js';
import type { BatchOutcome, DeliveryItem, DeliveryTarget, ItemOutcome, TargetFactory } from './target.js';

export interface StreamTargetConfig extends JsonObject {
  kind: 'stream';
  stream: string;
  /** replaces the event type; null keeps it */
  type: string | null;
  /** the producer name written with the events; null for none */
  producer: string | null;
}

/** Errors that the same write will meet again: the event goes to the dead-letter stream. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SCHEMA_VIOLATION',
  'UNKNOWN_EVENT_TYPE',
  'INVALID_EVENT',
  'PRODUCER_LOCKED',
  'BATCH_TOO_LARGE',
  'VALIDATION_FAILED',
  'BAD_REQUEST',
  'FORBIDDEN_KEY',
  'NESTING_TOO_DEEP',
  'INTERNAL_STREAM',
]);

function check(input: unknown): StreamTargetConfig {
  // null means "not set", so a normalised configuration checks again as itself
  const given =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null))
      : input;
  const r = ConfigReader.root(given, 'stream');
  r.only(['kind', 'stream', 'type', 'producer']);
  const stream = r.string('stream', { required: true, max: 200 });
  if (!isStreamName(stream)) throw r.fail('stream', 'must be a stream name');
  if (isInternalStream(stream))
    throw r.fail(
      'stream',
      'is an internal stream (attempt logs, rule actions, dead letters), which only the server writes',
    );
  return {
    kind: 'stream',
    stream,
    type: r.string('type', { max: 256 }) ?? null,
    producer: r.string('producer', { max: 200 }) ?? null,
  };
}

class StreamTarget implements DeliveryTarget {
  readonly kind = 'stream' as const;
  readonly maxBatchEvents = 1000;

  constructor(
    private readonly config: StreamTargetConfig,
    private readonly produce: ProduceService,
  ) {}

  async deliver(items: readonly DeliveryItem[]): Promise<BatchOutcome> {
    const started = performance.now();
    const events = items.map((item) => this.toEvent(item));
    const bytes = events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.data)), 0);
    const first = await this.write(events);
    // One refused event fails a whole append: write them one by one so the others get through.
    const outcomes =
      first.outcome === 'permanent' && events.length > 1
        ? await Promise.all(events.map((e) => this.write([e])))
        : events.map(() => first);
    return { items: outcomes, latencyMs: performance.now() - started, bytes, detail: { stream: this.config.stream } };
  }

  private async write(events: NewEvent[]): Promise<ItemOutcome> {
    try {
      await this.produce.produce({ stream: this.config.stream, events, producer: this.config.producer });
      return { outcome: 'success' };
    } catch (err) {
      if (!isRivuletError(err))
        return { outcome: 'retry', error: String((err as Error)?.message ?? err).slice(0, 300) };
      // STREAM_NOT_FOUND is retried: the stream may be created (or restored) within the retry window
      return {
        outcome: PERMANENT.has(err.code) ? 'permanent' : 'retry',
        error: `${err.code}: ${err.message}`.slice(0, 500),
      };
    }
  }

  private toEvent(item: DeliveryItem): NewEvent {
    const e = item.event;
    return {
      id: item.deliveryId,
      idSupplied: true,
      type: this.config.type ?? e.type,
      source: e.source,
      time: e.time,
      producer: this.config.producer,
      data: item.payload,
      meta: { ...e.meta, origin: { stream: e.stream, seq: e.seq, id: e.id } },
    };
  }

  async close(): Promise<void> {}
}

export const streamTarget: TargetFactory<StreamTargetConfig> = {
  kind: 'stream',
  check,
  redact: (config) => ({ ...config }),
  writesTo: (config) => [config.stream],
  create(config, deps) {
    if (deps.produce === undefined) throw new Error('the stream target needs the produce service');
    return new StreamTarget(config, deps.produce);
  },
};
