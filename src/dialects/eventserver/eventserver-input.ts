/**
 * The event server's input shape (seed 002), normalised to NewEvent:
 * `{event:{name,version}, system:{id,name,time,timezone}, trigger, payload}` →
 * type = event.name, time = system.time read in system.timezone, data = payload, and
 * everything but the payload kept in `meta`, so the event can be given back as it came.
 */
import type { JsonObject, JsonValue, NewEvent } from '../../kernel/envelope.js';
import { invalidField, isPlainObject, parseRfc3339, textField } from '../../core/events/event-fields.js';
import { isTimeZone, zonedToEpochMs } from '../../core/events/zoned-time.js';

export function eventFromEventServer(
  body: unknown,
  ctx: { producer: string; newId: () => string; stream: string },
): NewEvent {
  if (!isPlainObject(body)) throw invalidField(undefined, '', 'the event must be a JSON object');
  if ('eventId' in body || 'id' in body)
    throw invalidField(undefined, '/eventId', 'a new event must not carry an id; the server assigns it');
  const event = body.event;
  if (!isPlainObject(event))
    throw invalidField(undefined, '/event', '"event" must be an object with "name" and "version"');
  if (typeof event.name !== 'string' || event.name.length === 0)
    throw invalidField(undefined, '/event/name', '"event.name" must be a non-empty string');
  const name = textField(event.name, 'type', { pointer: '/event/name' }, true)!;
  if (!Number.isSafeInteger(event.version) || (event.version as number) < 1) {
    throw invalidField(undefined, '/event/version', '"event.version" must be an integer of at least 1');
  }
  const system = body.system;
  if (!isPlainObject(system))
    throw invalidField(undefined, '/system', '"system" must be an object with "time" and "timezone"');
  for (const field of ['id', 'name'] as const) {
    if (system[field] !== undefined && typeof system[field] !== 'string')
      throw invalidField(undefined, `/system/${field}`, `"system.${field}" must be a string`);
  }
  if (typeof system.timezone !== 'string' || !isTimeZone(system.timezone)) {
    throw invalidField(
      undefined,
      '/system/timezone',
      '"system.timezone" must be an IANA time zone such as Europe/Berlin',
    );
  }
  if (typeof system.time !== 'string')
    throw invalidField(undefined, '/system/time', '"system.time" must be a date-time like 2017-09-06 13:58:12');
  const ms = parseRfc3339(system.time) ?? zonedToEpochMs(system.time, system.timezone);
  if (ms === undefined)
    throw invalidField(undefined, '/system/time', '"system.time" must be a date-time like 2017-09-06 13:58:12');
  if (body.trigger !== undefined && !isPlainObject(body.trigger))
    throw invalidField(undefined, '/trigger', '"trigger" must be an object');
  if (!isPlainObject(body.payload)) throw invalidField(undefined, '/payload', '"payload" must be an object');
  const meta: JsonObject = {};
  for (const [k, v] of Object.entries(body)) if (k !== 'payload') meta[k] = v as JsonValue;
  const source =
    typeof system.id === 'string' && system.id.length > 0 && system.id.length <= 1024
      ? system.id
      : `/streams/${ctx.stream}`;
  return {
    id: ctx.newId(),
    idSupplied: false,
    type: name,
    source,
    time: new Date(ms).toISOString(),
    producer: ctx.producer,
    data: body.payload as JsonValue,
    meta,
  };
}

/** The stored event in the shape it was produced, with its id as `eventId`. */
export function eventServerView(e: { id: string; data: JsonValue; meta: JsonObject }): JsonObject {
  return { ...e.meta, payload: e.data, eventId: e.id };
}
