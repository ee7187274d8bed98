/** Native API: produce and read events (`/v1/streams/{name}/events`). */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RivuletError } from '../../kernel/errors.js';
import type { EventAnswer, JsonValue, NewEvent, StoredEvent } from '../../kernel/envelope.js';
import { parseRfc3339 } from '../../core/events/event-fields.js';
import { eventFromBinary, toCloudEvent, type InputContext } from '../../core/events/native-input.js';
import { decodeCursor, encodeCursor, type ReadRequest } from '../../core/events/read-events.js';
import { compileReadFilter, searchEvents, SCAN_LIMIT, type ScanState } from '../../core/events/search-events.js';
import type { EventJsonSlice } from '../../store/port.js';
import type { CoreServices } from '../../core/services.js';
import { appendAnswerText, eventsOfJsonBody, fingerprintOf, mediaTypeOf, produceNative } from '../native-produce.js';
import { JSON_TYPES, parseJsonBody } from '../plugins/json-body.js';
import { AppendAnswer, EventInput, StreamName, problemResponses } from '../schemas.js';

const streamParam = (req: FastifyRequest) => (req.params as { name?: string }).name;
const RAW = Symbol('raw body');

export interface EventsRouteOptions {
  maxReadLimit: number;
  maxJsonDepth: number;
}

const ReadQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'return events with seq greater than this' })),
    from: Type.Optional(Type.String({ description: 'inclusive lower bound on event time (RFC 3339)' })),
    to: Type.Optional(Type.String({ description: 'inclusive upper bound on event time (RFC 3339)' })),
    type: Type.Optional(
      Type.Array(Type.String(), {
        description: 'only these event types; repeat the parameter or separate with commas',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, description: 'most events to return (default 100)' })),
    filter: Type.Optional(
      Type.String({
        maxLength: 10_000,
        description:
          'only events for which this JSONata condition over the event envelope is true (the language of sink filters, docs/expressions.md), ' +
          `e.g. \`data.amount > 100\`; a page scans at most ${SCAN_LIMIT} events, so it may come back short or empty with a \`next\` to search on. Invalid → 400 INVALID_EXPRESSION`,
      }),
    ),
    cursor: Type.Optional(Type.String({ description: 'the `next` of the previous page' })),
  },
  { additionalProperties: false },
);

export function eventsRoutes(
  services: Pick<CoreServices, 'clock' | 'produce' | 'read' | 'streams'>,
  options: EventsRouteOptions,
) {
  return async function routes(app: FastifyInstance): Promise<void> {
    // CloudEvents binary mode may carry any media type: keep such bodies raw for the route to judge.
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, { [RAW]: body as Buffer }));

    app.post<{ Params: Static<typeof StreamName> }>(
      '/v1/streams/:name/events',
      {
        config: {
          access: { scope: 'produce', stream: streamParam },
          openapiBody: Type.Union([EventInput, Type.Array(EventInput)]),
        },
        schema: {
          tags: ['events'],
          summary: 'Produce one event or a batch (all or nothing)',
          description:
            'Plain JSON `{type, source?, time?, id?, data}`, CloudEvents 1.0 structured (`application/cloudevents+json`), batch (`application/cloudevents-batch+json`) or binary mode (`ce-*` headers). Send `Idempotency-Key` or event ids to make retries safe; `X-Producer-ID` names the producer.',
          params: StreamName,
          response: {
            201: AppendAnswer,
            ...problemResponses,
            409: Type.Ref('Problem'),
            413: Type.Ref('Problem'),
            415: Type.Ref('Problem'),
            422: Type.Ref('Problem'),
            423: Type.Ref('Problem'),
          },
        },
      },
      async (req, reply) => {
        const result = await produceNative(services, {
          stream: req.params.name,
          headers: req.headers,
          events: (ctx) => eventsOfRequest(req, ctx, options.maxJsonDepth),
          fingerprint: () => fingerprintSource(req),
        });
        if (result.replayed) void reply.header('idempotent-replayed', 'true');
        return reply.code(201).type('application/json; charset=utf-8').send(appendAnswerText(result));
      },
    );

    app.get<{ Params: Static<typeof StreamName>; Querystring: Static<typeof ReadQuery> }>(
      '/v1/streams/:name/events',
      {
        config: { access: { scope: 'consume', stream: streamParam } },
        schema: {
          tags: ['events'],
          summary: 'Read events in seq order, a page at a time',
          description:
            'Answers `{events, next}`; pass `next` as `cursor` for the following page (null when nothing more matched). Send `Accept: application/cloudevents-batch+json` for CloudEvents.',
          params: StreamName,
          querystring: ReadQuery,
          response: {
            200: Type.Object({ events: Type.Array(Type.Ref('Event')), next: Type.Union([Type.String(), Type.Null()]) }),
            ...problemResponses,
          },
        },
      },
      async (req, reply) => {
        const query = readRequestOf(req.query, options.maxReadLimit);
        const filter = query.filter === undefined ? undefined : compileReadFilter(query.filter);
        await services.streams.require(req.params.name);
        const cloudEvents = (req.headers.accept ?? '').includes('application/cloudevents-batch+json');
        if (!cloudEvents && filter === undefined) {
          // the common read: pages of the native API's JSON as the store keeps it, sent as bytes
          const read = services.read.readJson(req.params.name, query);
          let slices: AsyncIterator<EventJsonSlice> = read[Symbol.asyncIterator]();
          const first = await slices.next();
          if (!first.done) {
            const second = await slices.next();
            const framed = second.done ? framedPage(first.value, query) : undefined;
            if (framed) return reply.type('application/json').send(framed);
            slices = putBack(second, slices);
          }
          const page = renderJsonPage(first, slices, query)[Symbol.asyncIterator]();
          // a page of up to ~1 MiB goes out as one buffer; a larger one is streamed as it is read
          const head: Buffer[] = [];
          let size = 0;
          for (let next = await page.next(); ; next = await page.next()) {
            if (next.done)
              return reply.type('application/json').send(head.length === 1 ? head[0] : Buffer.concat(head, size));
            head.push(next.value);
            size += next.value.byteLength;
            if (size > ONE_PIECE_BYTES) break;
          }
          return reply.type('application/json').send(Readable.from(resume(head, page)));
        }
        const scan: ScanState | undefined =
          filter === undefined ? undefined : { lastSeq: query.afterSeq ?? 0, more: false };
        const source =
          filter === undefined || scan === undefined
            ? services.read.read(req.params.name, query)
            : searchEvents((r) => services.read.read(req.params.name, r), query, filter, scan);
        // the first page is read before anything is sent, so a read that cannot start (the stream
        // went away meanwhile) is answered with its problem rather than a cut-off body
        const events = source[Symbol.asyncIterator]();
        const first = await events.next();
        const body = Readable.from(renderPage(first, events, query, cloudEvents, scan));
        return reply.type(cloudEvents ? 'application/cloudevents-batch+json' : 'application/json').send(body);
      },
    );

    app.get<{ Params: Static<typeof StreamName> & { id: string } }>(
      '/v1/streams/:name/events/:id',
      {
        config: { access: { scope: 'consume', stream: streamParam } },
        schema: {
          tags: ['events'],
          summary: 'Read one event by id',
          params: Type.Object({ name: Type.String(), id: Type.String({ minLength: 1, maxLength: 256 }) }),
          response: { 200: Type.Ref('Event'), ...problemResponses },
        },
      },
      async (req) => renderEvent(await services.read.get(req.params.name, req.params.id)),
    );
  };
}

/** What makes two keyed requests "the same": the body, and in binary mode the ce-* headers and raw bytes too. */
function fingerprintSource(req: FastifyRequest): string {
  const body = req.body as unknown;
  const raw = typeof body === 'object' && body !== null && RAW in body ? (body as { [RAW]: Buffer })[RAW] : undefined;
  return fingerprintOf(req.headers, body, raw);
}

function eventsOfRequest(req: FastifyRequest, ctx: InputContext, maxDepth: number): NewEvent[] {
  const contentType = mediaTypeOf(req.headers['content-type']);
  const body = req.body as unknown;
  const raw = typeof body === 'object' && body !== null && RAW in body ? (body as { [RAW]: Buffer })[RAW] : undefined;
  if (req.headers['ce-specversion'] !== undefined) {
    const headers = req.headers as Record<string, string | undefined>;
    if (raw === undefined)
      return [eventFromBinary(headers, (body ?? null) as JsonValue, req.headers['content-type'], false, ctx)];
    if (contentType.startsWith('text/'))
      return [eventFromBinary(headers, raw.toString('utf8'), req.headers['content-type'], false, ctx)];
    if (contentType.endsWith('+json'))
      return [
        eventFromBinary(headers, parseJsonBody(raw, maxDepth) as JsonValue, req.headers['content-type'], false, ctx),
      ];
    return [eventFromBinary(headers, raw.toString('base64'), req.headers['content-type'], true, ctx)];
  }
  if (raw !== undefined || !JSON_TYPES.includes(contentType)) {
    throw new RivuletError(
      'UNSUPPORTED_MEDIA_TYPE',
      `send events as ${JSON_TYPES.join(', ')}, or in CloudEvents binary mode with ce-* headers; got "${contentType || 'no content type'}"`,
    );
  }
  return eventsOfJsonBody(contentType, body, ctx);
}

function readRequestOf(q: Static<typeof ReadQuery>, maxLimit: number): ReadRequest {
  const limit = q.limit ?? 100;
  if (limit > maxLimit) {
    throw new RivuletError('VALIDATION_FAILED', `limit may be at most ${maxLimit}`, {
      details: { in: 'querystring', pointer: '/limit' },
    });
  }
  if (q.cursor !== undefined) return { ...decodeCursor(q.cursor), limit };
  const types = q.type
    ?.flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    afterSeq: q.after,
    fromTimeMs: timeParam(q.from, 'from'),
    toTimeMs: timeParam(q.to, 'to'),
    types,
    limit,
    ...(q.filter === undefined ? {} : { filter: q.filter }),
  };
}

function timeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseRfc3339(value) ?? (/^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : undefined);
  if (ms === undefined || Number.isNaN(ms)) {
    throw new RivuletError('VALIDATION_FAILED', `${name} must be an RFC 3339 timestamp or a date (YYYY-MM-DD)`, {
      details: { in: 'querystring', pointer: `/${name}` },
    });
  }
  return ms;
}

export function renderEvent(e: StoredEvent): EventAnswer {
  const out: EventAnswer = {
    id: e.id,
    stream: e.stream,
    seq: e.seq,
    typeSeq: e.typeSeq,
    type: e.type,
    source: e.source,
    time: e.time,
    received: e.received,
    producer: e.producer,
    data: e.data,
  };
  if (Object.keys(e.meta).length > 0) out.meta = e.meta;
  if (e.schemaVersion !== null) out.schemaVersion = e.schemaVersion;
  return out;
}

const ONE_PIECE_BYTES = 1 << 20;

async function* resume(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncIterable<Buffer> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

const PAGE_OPEN = '{"events":[';

/** the end of a page of the native API: the cursor of the next page when this one is full */
function pageClose(count: number, lastSeq: number, query: ReadRequest): string {
  const next = count === query.limit ? encodeCursor(query, lastSeq) : null;
  return `],"next":${JSON.stringify(next)}}`;
}

/**
 * A page of one slice, framed in the spare bytes around the slice's own, so the page is sent
 * without copying it; undefined when the store left no room (or too little for the cursor).
 */
function framedPage(slice: EventJsonSlice, query: ReadRequest): Buffer | undefined {
  const { bytes, spare } = slice;
  if (!spare || spare.before < PAGE_OPEN.length) return undefined;
  const close = pageClose(slice.count, slice.lastSeq, query);
  const closeBytes = Buffer.byteLength(close);
  if (closeBytes > spare.after) return undefined;
  const page = Buffer.from(
    bytes.buffer,
    bytes.byteOffset - PAGE_OPEN.length,
    PAGE_OPEN.length + bytes.byteLength + closeBytes,
  );
  page.write(PAGE_OPEN, 0, 'latin1');
  page.write(close, PAGE_OPEN.length + bytes.byteLength);
  return page;
}

/** the iterator with a result already taken from it put back in front */
function putBack<T>(taken: IteratorResult<T>, rest: AsyncIterator<T>): AsyncIterator<T> {
  let pending: IteratorResult<T> | undefined = taken;
  return {
    next: () => {
      const result = pending;
      pending = undefined;
      return result ? Promise.resolve(result) : rest.next();
    },
  };
}

/** Writes a page of the native API's JSON slice by slice, so a large page never sits whole in memory. */
async function* renderJsonPage(
  first: IteratorResult<EventJsonSlice>,
  rest: AsyncIterator<EventJsonSlice>,
  query: ReadRequest,
): AsyncIterable<Buffer> {
  let count = 0;
  let last = query.afterSeq ?? 0;
  yield Buffer.from(PAGE_OPEN);
  for (let next = first; !next.done; next = await rest.next()) {
    const slice = next.value;
    if (count > 0) yield Buffer.from(',');
    yield Buffer.from(slice.bytes.buffer, slice.bytes.byteOffset, slice.bytes.byteLength);
    count += slice.count;
    last = slice.lastSeq;
  }
  yield Buffer.from(pageClose(count, last, query));
}

/**
 * Writes the page as it is read, so a large page never sits whole in memory. With a filter,
 * `scan` says where the search stopped: the next page resumes after the last event scanned.
 */
async function* renderPage(
  first: IteratorResult<StoredEvent>,
  rest: AsyncIterator<StoredEvent>,
  query: ReadRequest,
  cloudEvents: boolean,
  scan?: ScanState,
): AsyncIterable<string> {
  let count = 0;
  let last = query.afterSeq ?? 0;
  yield cloudEvents ? '[' : '{"events":[';
  for (let next = first; !next.done; next = await rest.next()) {
    const e = next.value;
    yield (count++ === 0 ? '' : ',') + JSON.stringify(cloudEvents ? toCloudEvent(e) : renderEvent(e));
    last = e.seq;
  }
  if (cloudEvents) {
    yield ']';
    return;
  }
  const next =
    scan !== undefined
      ? scan.more
        ? encodeCursor(query, scan.lastSeq)
        : null
      : count === query.limit
        ? encodeCursor(query, last)
        : null;
  yield `],"next":${JSON.stringify(next)}}`;
}
