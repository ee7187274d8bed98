/**
 * okdata's input shape (seed 000): a JSON array of objects, each one event, kept verbatim as
 * `data`. The event's time comes from its timestamp field (default `timestamp`): an ISO date,
 * date-time or epoch milliseconds; an event without a usable one is filed under the time it
 * arrived, so it still has a place in the time index.
 */
import type { JsonValue, NewEvent } from '../../kernel/envelope.js';
import { invalidField, isPlainObject } from '../../core/events/event-fields.js';
import { eventTime } from './okdata-time.js';

export const OKDATA_EVENT_TYPE = 'okdata.event';

export interface OkdataInputContext {
  producer: string | null;
  newId: () => string;
  /** the event's `source`: `/{dataset}/{version}` */
  source: string;
  timestampField: string;
  now: () => Date;
}

export function eventsFromOkdata(body: unknown, ctx: OkdataInputContext): NewEvent[] {
  if (!Array.isArray(body)) throw invalidField(undefined, '', 'the body must be a JSON array of event objects');
  const received = ctx.now().toISOString();
  return body.map((item: unknown, index) => {
    if (!isPlainObject(item)) throw invalidField(index, `/${index}`, 'an event must be a JSON object');
    return {
      id: ctx.newId(),
      idSupplied: false,
      type: OKDATA_EVENT_TYPE,
      source: ctx.source,
      time: eventTime(item[ctx.timestampField]) ?? received,
      producer: ctx.producer,
      data: item as JsonValue,
      meta: {},
    };
  });
}
