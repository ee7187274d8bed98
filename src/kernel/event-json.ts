/**
 * The native API's JSON text of one stored event, built from its parts. Data and meta arrive
 * as the JSON text they were stored as (the append serialises them once), so a page is put
 * together by concatenation instead of parsing each event and serialising it again. The text is
 * the same, byte for byte, as `JSON.stringify` of the answer object: the same keys in the same
 * order, `meta` left out when empty and `schemaVersion` when null.
 */
import type { StoredEvent } from './envelope.js';

export interface EventJsonParts {
  id: string;
  stream: string;
  seq: number;
  typeSeq: number;
  type: string;
  source: string;
  time: string;
  /** RFC 3339 */
  received: string;
  producer: string | null;
  /** JSON text as `JSON.stringify` wrote it */
  dataJson: string;
  /** JSON text; `{}` when there is none */
  metaJson: string;
  schemaVersion: number | null;
}

export function eventJsonOfParts(p: EventJsonParts): string {
  return eventJsonOfTexts({
    id: JSON.stringify(p.id),
    stream: JSON.stringify(p.stream),
    seq: p.seq,
    typeSeq: p.typeSeq,
    type: JSON.stringify(p.type),
    source: JSON.stringify(p.source),
    time: JSON.stringify(p.time),
    received: JSON.stringify(p.received),
    producer: p.producer === null ? 'null' : JSON.stringify(p.producer),
    dataJson: p.dataJson,
    metaJson: p.metaJson,
    schemaVersion: p.schemaVersion === null ? 'null' : String(p.schemaVersion),
  });
}

/**
 * The same parts already as JSON text (strings quoted and escaped as `JSON.stringify` writes
 * them): for a store that keeps an event's fields as JSON text and splices them.
 */
export type EventJsonTexts = Omit<EventJsonParts, 'producer' | 'schemaVersion'> & {
  /** `null` or a JSON string */
  producer: string;
  /** `null` or digits */
  schemaVersion: string;
};

export function eventJsonOfTexts(t: EventJsonTexts): string {
  let text = `{"id":${t.id},"stream":${t.stream},"seq":${t.seq},"typeSeq":${t.typeSeq},"type":${t.type},"source":${t.source},"time":${t.time},"received":${t.received},"producer":${t.producer},"data":${t.dataJson}`;
  if (t.metaJson !== '{}') text += `,"meta":${t.metaJson}`;
  if (t.schemaVersion !== 'null') text += `,"schemaVersion":${t.schemaVersion}`;
  return `${text}}`;
}

/** the same text for an event already in memory */
export function eventJson(e: StoredEvent): string {
  return eventJsonOfParts({
    id: e.id,
    stream: e.stream,
    seq: e.seq,
    typeSeq: e.typeSeq,
    type: e.type,
    source: e.source,
    time: e.time,
    received: e.received,
    producer: e.producer,
    dataJson: JSON.stringify(e.data) ?? 'null',
    metaJson: JSON.stringify(e.meta),
    schemaVersion: e.schemaVersion,
  });
}
