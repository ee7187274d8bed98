/**
 * Writes attempt records into each sink's internal stream `_sink.<id>.attempts` (count
 * retention ATTEMPT_LOG_EVENTS), buffered and appended in batches so the log costs one write
 * per flush rather than one per attempt.
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject, NewEvent } from '../../core/events/envelope.js';
import type { ProduceService } from '../../core/events/produce.js';
import { ATTEMPT_LOG_EVENTS, attemptStreamName, type AttemptRecord } from '../../core/sinks/sink-model.js';
import type { StreamService } from '../../core/streams/stream-service.js';

const MAX_BUFFERED = 5000;

export class AttemptLog {
  private readonly buffers = new Map<string, { owner: string; records: AttemptRecord[] }>();
  private readonly ensured = new Set<string>();

  constructor(private readonly streams: StreamService, private readonly produce: ProduceService) {}

  record(sinkOwner: string, record: AttemptRecord): void {
    let entry = this.buffers.get(record.sink);
    if (entry === undefined) {
      entry = { owner: sinkOwner, records: [] };
      this.buffers.set(record.sink, entry);
    }
    // the log is a diagnostic: under a flood, the oldest unwritten records give way
    if (entry.records.length >= MAX_BUFFERED) entry.records.shift();
    entry.records.push(record);
  }

  async flush(): Promise<void> {
    const batch = [...this.buffers];
    this.buffers.clear();
    for (const [sinkId, { owner, records }] of batch) {
      const stream = attemptStreamName(sinkId);
      try {
        if (!this.ensured.has(stream)) {
          await this.streams.ensure({ name: stream, description: `delivery attempts of sink "${sinkId}"`, retention: { maxEvents: ATTEMPT_LOG_EVENTS } }, owner);
          this.ensured.add(stream);
        }
        const events: NewEvent[] = records.map((r) => ({
          id: randomUUID(), idSupplied: false, type: 'sink.attempt', source: `/sinks/${sinkId}`,
          time: r.at, producer: null, data: r as unknown as JsonObject, meta: {},
        }));
        for (let i = 0; i < events.length; i += 1000) await this.produce.produce({ stream, events: events.slice(i, i + 1000), producer: null });
      } catch {
        this.ensured.delete(stream);
      }
    }
  }
}
