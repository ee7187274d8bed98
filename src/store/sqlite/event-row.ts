/**
 * An event as the events table holds it, and how a stored event is rebuilt from it. Events
 * appended since the `json` column exists keep their native JSON answer there (data and meta
 * empty); older rows keep data and meta and no json.
 */
import type { JsonObject, JsonValue, StoredEvent } from '../../kernel/envelope.js';
import { eventJsonOfParts } from '../../kernel/event-json.js';

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
  json: string | null;
}

export const EVENT_COLUMNS =
  'seq, id, type, type_seq, source, time, received_ms, producer, data, meta, schema_version, json';

export function toEvent(stream: string, row: EventRow): StoredEvent {
  if (row.json !== null) {
    const answer = JSON.parse(row.json) as { received: string; data: JsonValue; meta?: JsonObject };
    return {
      id: row.id,
      stream,
      seq: row.seq,
      typeSeq: row.type_seq,
      type: row.type,
      source: row.source,
      time: row.time,
      received: answer.received,
      producer: row.producer,
      data: answer.data,
      meta: answer.meta ?? {},
      schemaVersion: row.schema_version,
    };
  }
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

/** the native JSON answer of a row: the stored text, or for an older row, built from its parts */
export function eventJsonOfRow(stream: string, row: EventRow): string {
  if (row.json !== null) return row.json;
  return eventJsonOfParts({
    id: row.id,
    stream,
    seq: row.seq,
    typeSeq: row.type_seq,
    type: row.type,
    source: row.source,
    time: row.time,
    received: new Date(row.received_ms).toISOString(),
    producer: row.producer,
    dataJson: row.data,
    metaJson: row.meta,
    schemaVersion: row.schema_version,
  });
}
