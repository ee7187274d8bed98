/** An event as the events table holds it, and how a stored event is rebuilt from it. */
import type { StoredEvent } from '../../core/events/envelope.js';

export interface EventRow {
  seq: number;
  id: string;
  type: string;
  type_seq: number;
  source: string;
  time: string;
  received_ms: number;
  producer: string | null;
  data: string;
  meta: string;
  schema_version: number | null;
}

export const EVENT_COLUMNS = 'seq, id, type, type_seq, source, time, received_ms, producer, data, meta, schema_version';

export function toEvent(stream: string, row: EventRow): StoredEvent {
  return {
    id: row.id,
    stream,
    seq: row.seq,
    typeSeq: row.type_seq,
    type: row.type,
    source: row.source,
    time: row.time,
    received: new Date(row.received_ms).toISOString(),
    producer: row.producer,
    data: JSON.parse(row.data),
    meta: JSON.parse(row.meta),
    schemaVersion: row.schema_version,
  };
}
