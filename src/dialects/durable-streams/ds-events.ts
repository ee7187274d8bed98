/**
 * Protocol messages ↔ events. A JSON-mode message is one event whose data is the message; a
 * byte-mode append is one event carrying its bytes the CloudEvents way: text that is valid
 * UTF-8 as a string, anything else base64 with `data_base64`, and `datacontenttype` in meta.
 */
import type { JsonObject, JsonValue, NewEvent, StoredEvent } from '../../kernel/envelope.js';
import { uuidv7 } from '../../core/events/uuid-v7.js';
import { mediaType } from './ds-meta.js';

export const BYTES_TYPE = 'ds.bytes';
export const MESSAGE_TYPE = 'ds.message';
/** on the first event of a JSON append of several messages: how many it held (forks cut inside one) */
export const BATCH_FIELD = 'dsBatch';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface EventOrigin {
  path: string;
  producer: string | null;
  /** ids for de-duplication (an idempotent producer's request); generated when absent */
  ids?: (index: number) => string;
  nowIso: string;
}

function base(
  origin: EventOrigin,
  source: string,
  index: number,
  type: string,
  data: JsonValue,
  meta: JsonObject,
): NewEvent {
  const id = origin.ids?.(index);
  return {
    id: id ?? uuidv7(),
    idSupplied: id !== undefined,
    type,
    source,
    time: origin.nowIso,
    producer: origin.producer,
    data,
    meta,
  };
}

function sourceOf(origin: EventOrigin): string {
  return `/ds/${origin.path}`;
}

export function bytesEvent(bytes: Buffer, contentType: string, origin: EventOrigin): NewEvent {
  if (mediaType(contentType).startsWith('text/')) {
    try {
      return base(origin, sourceOf(origin), 0, BYTES_TYPE, utf8.decode(bytes), { datacontenttype: contentType });
    } catch {
      // not UTF-8: kept as bytes below
    }
  }
  return base(origin, sourceOf(origin), 0, BYTES_TYPE, bytes.toString('base64'), {
    datacontenttype: contentType,
    data_base64: true,
  });
}

export function messageEvents(messages: JsonValue[], origin: EventOrigin): NewEvent[] {
  // one source string for the whole append: it is stored with every event
  const source = sourceOf(origin);
  const events: NewEvent[] = new Array(messages.length);
  for (let i = 0; i < messages.length; i++)
    events[i] = base(
      origin,
      source,
      i,
      MESSAGE_TYPE,
      messages[i]!,
      i === 0 && messages.length > 1 ? { [BATCH_FIELD]: messages.length } : {},
    );
  return events;
}

/** the bytes an event carries in a byte-mode stream */
export function bytesOf(event: Pick<StoredEvent, 'data' | 'meta'>): Buffer {
  if (event.meta.data_base64 === true && typeof event.data === 'string') return Buffer.from(event.data, 'base64');
  if (typeof event.data === 'string') return Buffer.from(event.data, 'utf8');
  return Buffer.from(JSON.stringify(event.data));
}

/** the JSON text of an event's message in a JSON-mode stream */
export function messageText(event: Pick<StoredEvent, 'data'>): string {
  return JSON.stringify(event.data);
}

/** a copy of a stored event for another stream (forks) */
export function copyOf(event: StoredEvent): NewEvent {
  return {
    id: uuidv7(),
    idSupplied: false,
    type: event.type,
    source: event.source,
    time: event.time,
    producer: event.producer,
    data: event.data,
    meta: event.meta,
  };
}
