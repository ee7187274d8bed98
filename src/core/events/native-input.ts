/**
 * The native API's input shapes, normalised to NewEvent:
 * - plain JSON `{type, source?, time?, id?, data}` (one object or an array);
 * - CloudEvents 1.0 structured (`application/cloudevents+json`) and batch
 *   (`application/cloudevents-batch+json`); a JSON object with `specversion` is read as one too;
 * - CloudEvents binary mode: attributes in `ce-*` headers, the body is the data.
 * Everything a producer sent beyond the envelope's fields is kept in `meta`.
 */
import type { JsonObject, JsonValue, NewEvent } from '../../kernel/envelope.js';
import { eventTextField, eventTimeField, invalidField, isPlainObject, textField, timeField } from './event-fields.js';

export interface InputContext {
  /** the stream written to; the default `source` when a plain event has none */
  stream: string;
  producer: string | null;
  newId: () => string;
  now: () => string;
}

const PLAIN_FIELDS = new Set(['type', 'source', 'time', 'id', 'data']);
const CE_ENVELOPE = new Set(['specversion', 'type', 'source', 'time', 'id', 'data', 'data_base64']);

/** One JSON body (object or array) in plain or CloudEvents structured form. */
export function eventsFromJson(body: unknown, ctx: InputContext, mode: 'auto' | 'cloudevents' = 'auto'): NewEvent[] {
  const items = Array.isArray(body) ? body : [body];
  const indexed = Array.isArray(body);
  if (items.length === 0) throw invalidField(undefined, '', 'the batch is empty: send at least one event');
  return items.map((item, i) => {
    const index = indexed ? i : undefined;
    const base = indexed ? `/${i}` : '';
    if (!isPlainObject(item)) throw invalidField(index, base, 'an event must be a JSON object');
    if (mode === 'cloudevents' || 'specversion' in item) return fromCloudEvent(item, ctx, index, base);
    return fromPlain(item, ctx, index, base);
  });
}

function fromPlain(
  item: Record<string, unknown>,
  ctx: InputContext,
  index: number | undefined,
  base: string,
): NewEvent {
  const type = eventTextField(item.type, 'type', index, base, true)!;
  const source = eventTextField(item.source, 'source', index, base, false) ?? `/streams/${ctx.stream}`;
  const id = eventTextField(item.id, 'id', index, base, false);
  const time = eventTimeField(item.time, index, base, ctx.now);
  const meta: JsonObject = {};
  for (const k of Object.keys(item)) if (!PLAIN_FIELDS.has(k)) meta[k] = item[k] as JsonValue;
  return {
    id: id ?? ctx.newId(),
    idSupplied: id !== undefined,
    type,
    source,
    time,
    producer: ctx.producer,
    data: (item.data ?? null) as JsonValue,
    meta,
  };
}

function fromCloudEvent(
  item: Record<string, unknown>,
  ctx: InputContext,
  index: number | undefined,
  base: string,
): NewEvent {
  if (item.specversion !== '1.0') {
    throw invalidField(index, `${base}/specversion`, '"specversion" must be "1.0" (CloudEvents 1.0)');
  }
  const type = textField(item.type, 'type', { index, pointer: `${base}/type` }, true)!;
  const source = textField(item.source, 'source', { index, pointer: `${base}/source` }, true)!;
  const id = textField(item.id, 'id', { index, pointer: `${base}/id` }, true)!;
  const time = timeField(item.time, { index, pointer: `${base}/time` }, ctx.now);
  if ('data' in item && 'data_base64' in item) {
    throw invalidField(index, `${base}/data_base64`, 'a CloudEvent has "data" or "data_base64", not both');
  }
  const meta: JsonObject = {};
  for (const [k, v] of Object.entries(item)) if (!CE_ENVELOPE.has(k)) meta[k] = v as JsonValue;
  meta.specversion = '1.0';
  let data: JsonValue = (item.data ?? null) as JsonValue;
  if ('data_base64' in item) {
    if (typeof item.data_base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(item.data_base64)) {
      throw invalidField(index, `${base}/data_base64`, '"data_base64" must be base64 text');
    }
    data = item.data_base64;
    meta.data_base64 = true;
  }
  return { id, idSupplied: true, type, source, time, producer: ctx.producer, data, meta };
}

/**
 * CloudEvents binary mode: the `ce-` headers carry the attributes and the body is the data,
 * already decoded by the HTTP layer (JSON parsed, text as a string, other bytes as base64).
 */
export function eventFromBinary(
  headers: Record<string, string | undefined>,
  data: JsonValue,
  contentType: string | undefined,
  dataIsBase64: boolean,
  ctx: InputContext,
): NewEvent {
  const attrs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce-') && value !== undefined) attrs[name.slice(3)] = decodeHeaderValue(value);
  }
  if (contentType) attrs.datacontenttype = contentType;
  const event = fromCloudEvent(attrs, ctx, undefined, '');
  event.data = data;
  if (dataIsBase64) event.meta.data_base64 = true;
  return event;
}

/** CloudEvents HTTP binding: header values are percent-encoded where needed. */
function decodeHeaderValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The CloudEvents structured form of a stored event: what `Accept: application/cloudevents+json` reads back. */
export function toCloudEvent(event: {
  id: string;
  source: string;
  type: string;
  time: string;
  data: JsonValue;
  meta: JsonObject;
}): JsonObject {
  const { data_base64: isBase64, ...rest } = event.meta;
  const ce: JsonObject = {
    specversion: '1.0',
    id: event.id,
    source: event.source,
    type: event.type,
    time: event.time,
    ...rest,
  };
  if (isBase64 === true) ce.data_base64 = event.data;
  else if (event.data !== null) ce.data = event.data;
  return ce;
}
