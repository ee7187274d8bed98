/**
 * iFLUX's input shape (seed 004), normalised to NewEvent: a list (or one object) of
 * `{timestamp, source, type, properties}` → time = timestamp, data = properties; other
 * fields are kept in `meta`. Errors name the index and the field.
 */
import type { JsonObject, JsonValue, NewEvent } from '../../kernel/envelope.js';
import { invalidField, isPlainObject, parseRfc3339, textField } from '../../core/events/event-fields.js';

const FIELDS = new Set(['timestamp', 'source', 'type', 'properties']);

export function eventsFromIflux(body: unknown, ctx: { producer: string | null; newId: () => string }): NewEvent[] {
  const items = Array.isArray(body) ? body : [body];
  return items.map((item, index) => {
    const base = Array.isArray(body) ? `/${index}` : '';
    if (!isPlainObject(item)) throw invalidField(index, base, 'an event must be a JSON object');
    if (typeof item.timestamp !== 'string' || parseRfc3339(item.timestamp) === undefined) {
      throw invalidField(
        index,
        `${base}/timestamp`,
        '"timestamp" must be an RFC 3339 timestamp like 2015-01-12T05:21:07Z',
      );
    }
    const source = textField(item.source, 'source', { index, pointer: `${base}/source` }, true)!;
    const type = textField(item.type, 'type', { index, pointer: `${base}/type` }, true)!;
    if (!isPlainObject(item.properties))
      throw invalidField(index, `${base}/properties`, '"properties" must be an object');
    const meta: JsonObject = {};
    for (const [k, v] of Object.entries(item)) if (!FIELDS.has(k)) meta[k] = v as JsonValue;
    return {
      id: ctx.newId(),
      idSupplied: false,
      type,
      source,
      time: item.timestamp,
      producer: ctx.producer,
      data: item.properties as JsonValue,
      meta,
    };
  });
}

/** iFLUX's shape as a rule dry run's sample: one object with `properties` or `timestamp` (RuleService.addSampleShape) */
export function ifluxSample(sample: unknown, ctx: { producer: string | null; newId: () => string }): NewEvent[] | null {
  const shaped =
    sample !== null &&
    typeof sample === 'object' &&
    !Array.isArray(sample) &&
    ('properties' in sample || 'timestamp' in sample);
  return shaped ? eventsFromIflux(sample, ctx) : null;
}
