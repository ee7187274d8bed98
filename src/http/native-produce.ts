/**
 * The native produce request's handling once its body is read: the headers it honours
 * (`X-Producer-ID`, `Idempotency-Key`), the events a JSON body holds, and the answer's text.
 * The produce route and the produce lane both use it, so the two cannot drift apart.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isoTime } from '../kernel/clock.js';
import { RivuletError } from '../kernel/errors.js';
import type { AppendResult, NewEvent } from '../kernel/envelope.js';
import { eventsFromJson, type InputContext } from '../core/events/native-input.js';
import { uuidv7 } from '../core/events/uuid-v7.js';
import type { CoreServices } from '../core/services.js';

export interface NativeProduce {
  stream: string;
  headers: IncomingHttpHeaders;
  /** the body's events, read with the request's context */
  events(ctx: InputContext): NewEvent[];
  /** what makes two keyed requests "the same"; asked only when an Idempotency-Key is sent */
  fingerprint(): string;
}

export async function produceNative(
  services: Pick<CoreServices, 'clock' | 'produce'>,
  req: NativeProduce,
): Promise<AppendResult> {
  const producer = headerText(req.headers, 'x-producer-id', 256);
  let receivedAt: string | undefined;
  const events = req.events({
    stream: req.stream,
    producer: producer ?? null,
    newId: uuidv7,
    // one receive time per request: a batch of events without `time` need not read the clock per event
    now: () => (receivedAt ??= isoTime(services.clock.now())),
  });
  const idempotencyKey = headerText(req.headers, 'idempotency-key', 256);
  return services.produce.produce({
    stream: req.stream,
    events,
    producer: producer ?? null,
    idempotencyKey,
    body: idempotencyKey === undefined ? undefined : req.fingerprint(),
  });
}

/** the events of a JSON body sent as `mediaType` (one of JSON_TYPES) */
export function eventsOfJsonBody(mediaType: string, body: unknown, ctx: InputContext): NewEvent[] {
  if (mediaType === 'application/cloudevents-batch+json' && !Array.isArray(body)) {
    throw new RivuletError('INVALID_EVENT', 'a CloudEvents batch must be a JSON array', { details: { pointer: '' } });
  }
  return eventsFromJson(body, ctx, mediaType.startsWith('application/cloudevents') ? 'cloudevents' : 'auto');
}

/** the media type of a Content-Type header, lower-cased, without parameters */
export function mediaTypeOf(contentType: string | undefined): string {
  // the common case needs no splitting
  if (contentType === 'application/json') return contentType;
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** the fingerprint source of a request: its ce-* headers and its body (parsed JSON, or raw bytes in binary mode) */
export function fingerprintOf(headers: IncomingHttpHeaders, body: unknown, raw: Buffer | undefined): string {
  const ce = Object.entries(headers)
    .filter(([name]) => name.startsWith('ce-'))
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([ce, raw === undefined ? body : raw.toString('base64')]);
}

/**
 * the 201 answer's body; fields in the order the route's response schema gives them. Built as
 * text rather than through JSON.stringify of a fresh object: it is on every produce request's
 * path, and this costs a third less (strings still go through JSON.stringify for escaping).
 */
export function appendAnswerText(result: AppendResult): string {
  let events = '';
  for (const e of result.events) {
    events += `${events === '' ? '' : ','}{"id":${JSON.stringify(e.id)},"seq":${e.seq},"typeSeq":${e.typeSeq},"duplicate":${e.duplicate}}`;
  }
  return `{"stream":${JSON.stringify(result.stream)},"events":[${events}],"replayed":${result.replayed}}`;
}

function headerText(headers: IncomingHttpHeaders, name: string, max: number): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value) || value.length === 0 || value.length > max) {
    throw new RivuletError('BAD_REQUEST', `header ${name} must appear once with 1–${max} characters`, {
      details: { header: name },
    });
  }
  return value;
}
