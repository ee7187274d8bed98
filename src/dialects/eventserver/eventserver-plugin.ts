/**
 * The event server dialect (seed 002), mounted at `/api/v1/streams`:
 *   POST /:stream/events            produce one event (first producer owns the stream)
 *   GET  /:stream/events            the next events of one name for a consumer (does not advance)
 *   POST /:stream/events/:eventId   ACK (`action=ACK`, form or JSON): only the next event
 * Positions are per (consumer, stream, event name): each pair is a cursor-style consumer
 * filtered to that name. Answers are JSON strings with `application/json; charset=utf-8`.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { uuidv7 } from '../../core/events/uuid-v7.js';
import { RivuletError } from '../../kernel/errors.js';
import { eventFromEventServer, eventServerView } from './eventserver-input.js';
import type { CoreServices } from '../../core/services.js';
import { MAX_RECEIVE } from '../../core/consumers/consumer-service.js';
import { parseIntegerParam } from '../../http/request-params.js';
import { notFoundWith, type ApiMount } from '../../http/unrouted.js';
import { JSON_UTF8, eventServerErrorHandler } from './eventserver-errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SIMPLE_NAME = /^[A-Za-z0-9_-]{1,100}$/;

interface StreamParams {
  stream: string;
}
interface AckParams {
  stream: string;
  eventId: string;
}

const streamOf = (req: FastifyRequest) => (req.params as { stream?: string }).stream;

function badRequest(message: string): RivuletError {
  return new RivuletError('BAD_REQUEST', message);
}

function uuidHeader(req: FastifyRequest, name: string): string {
  const value = req.headers[name];
  if (typeof value !== 'string' || !UUID.test(value)) throw badRequest(`${name} must be a UUID`);
  return value.toLowerCase();
}

/** the consumer that holds one (consumer id, event name) position; unusual names are hashed */
export function consumerNameOf(consumerId: string, eventName: string): string {
  const part = SIMPLE_NAME.test(eventName)
    ? eventName
    : `~${createHash('sha256').update(eventName).digest('hex').slice(0, 32)}`;
  return `eventserver.${consumerId}.${part}`;
}

export const EVENTSERVER_PREFIX = '/api/v1/streams';

/** the event server answers for every path under its prefix */
export const eventServerMount: ApiMount = {
  name: 'eventserver',
  claims: (path) => path === EVENTSERVER_PREFIX || path.startsWith(`${EVENTSERVER_PREFIX}/`),
  errorHandler: eventServerErrorHandler,
};

/** what the event server's routes use */
export type EventServerServices = Pick<CoreServices, 'consumers' | 'produce' | 'read' | 'streams'>;

export function eventServerDialect(services: EventServerServices) {
  return async function eventServer(app: FastifyInstance): Promise<void> {
    app.setErrorHandler(eventServerErrorHandler);
    app.setNotFoundHandler(notFoundWith(eventServerErrorHandler));
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    app.post<{ Params: StreamParams }>(
      '/:stream/events',
      {
        config: { access: { scope: 'produce', stream: streamOf } },
        schema: { hide: true },
      },
      async (req, reply) => {
        const producer = uuidHeader(req, 'x-producer-id');
        const stream = req.params.stream;
        const event = eventFromEventServer(req.body, { producer, newId: uuidv7, stream });
        // the first writer creates the stream and, with it, owns it
        await services.streams.ensure({ name: stream, exclusiveProducer: true }, req.principal?.owner ?? 'eventserver');
        const result = await services.produce.produce({ stream, events: [event], producer });
        return reply.code(200).type(JSON_UTF8).send(JSON.stringify(result.events[0]!.id));
      },
    );

    app.get<{ Params: StreamParams; Querystring: Record<string, string | undefined> }>(
      '/:stream/events',
      {
        config: { access: { scope: 'consume', stream: streamOf } },
        schema: { hide: true },
      },
      async (req, reply) => {
        const consumerId = uuidHeader(req, 'x-consumer-id');
        const eventName = req.query.eventName;
        if (typeof eventName !== 'string' || eventName.length === 0) throw badRequest('eventName is mandatory');
        if (req.query.limit === undefined) throw badRequest('limit is mandatory and must be an integer');
        const limit = parseIntegerParam(req.query.limit, 'limit', { min: 1, max: MAX_RECEIVE });
        const stream = req.params.stream;
        await services.streams.require(stream);
        const name = consumerNameOf(consumerId, eventName);
        await services.consumers.ensure(stream, { name, types: [eventName] });
        const events = await services.consumers.peek(stream, name, limit);
        return reply
          .code(200)
          .type(JSON_UTF8)
          .send(JSON.stringify(events.map(eventServerView)));
      },
    );

    app.post<{ Params: AckParams }>(
      '/:stream/events/:eventId',
      {
        config: { access: { scope: 'consume', stream: streamOf } },
        schema: { hide: true },
      },
      async (req, reply) => {
        const consumerId = uuidHeader(req, 'x-consumer-id');
        const body = req.body as { action?: unknown } | undefined;
        if (typeof body !== 'object' || body === null || body.action !== 'ACK')
          throw badRequest('the body must be action=ACK');
        const { stream, eventId } = req.params;
        if (!UUID.test(eventId)) throw new RivuletError('EVENT_NOT_FOUND', `no event "${eventId}"`);
        await services.streams.require(stream);
        const event = await services.read.get(stream, eventId);
        const name = consumerNameOf(consumerId, event.type);
        await services.consumers.ensure(stream, { name, types: [event.type] });
        await services.consumers.commitNext(stream, name, eventId);
        return reply.code(200).type(JSON_UTF8).send(JSON.stringify('OK'));
      },
    );
  };
}
