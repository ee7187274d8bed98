/**
 * Writes attempt records into each sink's internal stream `_sink.<id>.attempts`, buffered and
 * packed: each flush appends one event per sink carrying its records (`data.records`, up to
 * RECORDS_PER_EVENT), so the log costs one small append per flush rather than an event per
 * attempt. Retention bounds it by events (ATTEMPT_LOG_EVENTS: at least that many records) and
 * by bytes (ATTEMPT_LOG_BYTES: a few thousand records at a high rate).
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject, NewEvent } from '../../kernel/envelope.js';
import type { ProduceService } from '../../core/events/produce.js';
import { ATTEMPT_LOG_EVENTS, attemptStreamName, type AttemptRecord } from '../../core/sinks/sink-model.js';
import type { StreamService } from '../../core/streams/stream-service.js';

/** records of one sink waiting for a flush, at most */
const MAX_BUFFERED = 20_000;
const RECORDS_PER_EVENT = 1000;
/** about 10 000 records of the usual size */
const ATTEMPT_LOG_BYTES = 4 * 1024 * 1024;

export class AttemptLog {
  private readonly buffers = new Map<string, { owner: string; records: AttemptRecord[] }>();
  private readonly ensured = new Set<string>();

  constructor(
    private readonly streams: StreamService,
    private readonly produce: ProduceService,
  ) {}

  record(sinkOwner: string, record: AttemptRecord): void {
    let entry = this.buffers.get(record.sink);
    if (entry === undefined) {
      entry = { owner: sinkOwner, records: [] };
      this.buffers.set(record.sink, entry);
    }
    // the log is a diagnostic: under a flood, the oldest unwritten records give way (a tenth
    // at a time, so a flood does not cost a shift of the whole buffer per record)
    if (entry.records.length >= MAX_BUFFERED) entry.records.splice(0, MAX_BUFFERED / 10);
    entry.records.push(record);
  }

  async flush(): Promise<void> {
    const batch = [...this.buffers];
    this.buffers.clear();
    for (const [sinkId, { owner, records }] of batch) {
      const stream = attemptStreamName(sinkId);
      try {
        if (!this.ensured.has(stream)) {
          await this.streams.ensureInternal(
            {
              name: stream,
              description: `delivery attempts of sink "${sinkId}"`,
              retention: { maxEvents: ATTEMPT_LOG_EVENTS, maxBytes: ATTEMPT_LOG_BYTES },
            },
            owner,
          );
          this.ensured.add(stream);
        }
        const events: NewEvent[] = [];
        for (let i = 0; i < records.length; i += RECORDS_PER_EVENT) {
          const packed = records.slice(i, i + RECORDS_PER_EVENT);
          events.push({
            id: randomUUID(),
            idSupplied: false,
            type: 'sink.attempts',
            source: `/sinks/${sinkId}`,
            time: packed[packed.length - 1]!.at,
            producer: null,
            data: { records: packed } as unknown as JsonObject,
            meta: {},
          });
        }
        await this.produce.produceInternal({ stream, events, producer: null });
      } catch {
        this.ensured.delete(stream);
      }
    }
  }
}
