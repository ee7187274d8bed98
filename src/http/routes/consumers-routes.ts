/** Native API: consumers of a stream (`/v1/streams/{name}/consumers/...`), cursor and leased style. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { TokenOutcome } from '../../core/consumers/consumer-service.js';
import type { CoreServices } from '../../core/services.js';
import type { Delivery } from '../../store/port.js';
import { problemResponses } from '../schemas.js';
import { renderEvent } from './events-routes.js';
import { startOf } from './start-of.js';

const streamParam = (req: FastifyRequest) => (req.params as { name?: string }).name;
const consume = { scope: 'consume' as const, stream: streamParam };
const manage = { scope: 'manage' as const, stream: streamParam };

const Params = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  consumer: Type.String({ minLength: 1, maxLength: 200 }),
});
const StreamOnly = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

const Start = Type.Object(
  {
    from: Type.Union([Type.Literal('beginning'), Type.Literal('end'), Type.Literal('seq'), Type.Literal('time')]),
    seq: Type.Optional(Type.Integer({ minimum: 1, description: 'with from=seq: the first seq to deliver' })),
    time: Type.Optional(
      Type.String({ description: 'with from=time: deliver events whose time is at or after this (RFC 3339)' }),
    ),
  },
  { additionalProperties: false },
);

const ConsumerCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    types: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        maxItems: 100,
        description: 'only these event types (all when absent)',
      }),
    ),
    start: Type.Optional(Start),
    leaseMs: Type.Optional(Type.Integer({ description: 'default lease of a receive (30000 when absent)' })),
    maxDeliveries: Type.Optional(
      Type.Integer({ description: 'deliveries before an event is dead-lettered (5 when absent)' }),
    ),
    deadLetterStream: Type.Optional(
      Type.Union([Type.String(), Type.Null()], { description: '`<stream>.dlq` when absent' }),
    ),
  },
  { additionalProperties: false },
);

const Consumer = Type.Object(
  {
    name: Type.String(),
    stream: Type.String(),
    types: Type.Array(Type.String()),
    leaseMs: Type.Integer(),
    maxDeliveries: Type.Integer(),
    deadLetterStream: Type.Union([Type.String(), Type.Null()]),
    committedSeq: Type.Integer(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Consumer' },
);

const Lag = Type.Object({
  committedSeq: Type.Integer(),
  lastSeq: Type.Integer(),
  pending: Type.Integer({ description: 'matching events after the committed position' }),
  leased: Type.Integer({ description: 'events leased to clients now' }),
  oldestUnackedMs: Type.Union([Type.Integer(), Type.Null()]),
  oldestUnackedAgeMs: Type.Union([Type.Integer(), Type.Null()], {
    description: 'age of the oldest unacknowledged event',
  }),
});

const Tokens = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 1000 });
const Outcomes = Type.Object({
  outcomes: Type.Array(
    Type.Object({ token: Type.String(), outcome: Type.Union([Type.Literal('ok'), Type.Literal('not-held')]) }),
  ),
});

const DeliveryView = Type.Object({
  event: Type.Ref('Event'),
  deliveries: Type.Integer(),
  firstDeliveredAt: Type.String({
    description: 'when this consumer first handed the event out; kept across redeliveries',
  }),
  leaseToken: Type.String(),
  leaseExpiresAt: Type.String(),
});

type P = { Params: Static<typeof Params> };

export function consumersRoutes(services: Pick<CoreServices, 'consumers'>) {
  const consumers = services.consumers;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addSchema(Consumer);
    const tags = ['consumers'];

    app.post<{ Params: Static<typeof StreamOnly>; Body: Static<typeof ConsumerCreate> }>(
      '/v1/streams/:name/consumers',
      {
        config: { access: manage },
        schema: {
          tags,
          summary: 'Create a consumer',
          params: StreamOnly,
          body: ConsumerCreate,
          response: { 201: Type.Ref('Consumer'), ...problemResponses, 409: Type.Ref('Problem') },
        },
      },
      async (req, reply) => {
        const { start, ...rest } = req.body;
        const created = await consumers.create(req.params.name, { ...rest, start: start ? startOf(start) : undefined });
        return reply.code(201).send(created);
      },
    );

    app.get<{ Params: Static<typeof StreamOnly>; Querystring: { after?: string; limit?: number } }>(
      '/v1/streams/:name/consumers',
      {
        config: { access: consume },
        schema: {
          tags,
          summary: 'List the consumers of a stream',
          params: StreamOnly,
          querystring: Type.Object(
            { after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              consumers: Type.Array(Type.Ref('Consumer')),
              next: Type.Union([Type.String(), Type.Null()]),
            }),
            ...problemResponses,
          },
        },
      },
      async (req) => consumers.list(req.params.name, { after: req.query.after, limit: req.query.limit ?? 100 }),
    );

    app.get<P>(
      '/v1/streams/:name/consumers/:consumer',
      {
        config: { access: consume },
        schema: {
          tags,
          summary: 'Describe a consumer',
          params: Params,
          response: { 200: Type.Ref('Consumer'), ...problemResponses },
        },
      },
      async (req) => consumers.get(req.params.name, req.params.consumer),
    );

    app.delete<P>(
      '/v1/streams/:name/consumers/:consumer',
      {
        config: { access: manage },
        schema: {
          tags,
          summary: 'Delete a consumer and its positions and leases',
          params: Params,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        await consumers.delete(req.params.name, req.params.consumer);
        return reply.code(204).send();
      },
    );

    app.get<P>(
      '/v1/streams/:name/consumers/:consumer/lag',
      {
        config: { access: consume },
        schema: {
          tags,
          summary: 'How far behind the consumer is',
          params: Params,
          response: { 200: Lag, ...problemResponses },
        },
      },
      async (req) => consumers.lag(req.params.name, req.params.consumer),
    );

    app.get<P & { Querystring: { limit?: number } }>(
      '/v1/streams/:name/consumers/:consumer/events',
      {
        config: { access: consume },
        schema: {
          tags,
          summary: 'Cursor style: the events after the committed position (does not move it)',
          params: Params,
          querystring: Type.Object(
            { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ events: Type.Array(Type.Ref('Event')) }), ...problemResponses },
        },
      },
      async (req) => ({
        events: (await consumers.peek(req.params.name, req.params.consumer, req.query.limit ?? 100)).map(renderEvent),
      }),
    );

    app.post<P & { Body: { seq: number } }>(
      '/v1/streams/:name/consumers/:consumer/commit',
      {
        config: { access: consume },
        schema: {
          tags,
          summary: 'Cursor style: move the committed position to seq',
          params: Params,
          body: Type.Object({ seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
          response: { 200: Type.Ref('Consumer'), ...problemResponses },
        },
      },
      async (req) => consumers.commit(req.params.name, req.params.consumer, req.body.seq),
    );

    app.post<P & { Body: { max?: number; leaseMs?: number; clientId?: string } }>(
      '/v1/streams/:name/consumers/:consumer/receive',
      {
        config: { access: consume },
        schema: {
          tags,
          summary: 'Leased style: receive up to max events under a lease',
          params: Params,
          body: Type.Object(
            {
              max: Type.Optional(Type.Integer({ description: '1–1000, default 10' })),
              leaseMs: Type.Optional(Type.Integer({ description: "overrides the consumer's lease" })),
              clientId: Type.Optional(Type.String({ maxLength: 200 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ deliveries: Type.Array(DeliveryView) }), ...problemResponses },
        },
      },
      async (req) => {
        const got = await consumers.receive(req.params.name, req.params.consumer, {
          max: req.body?.max ?? 10,
          leaseMs: req.body?.leaseMs,
          clientId: req.body?.clientId ?? null,
        });
        return { deliveries: got.map(renderDelivery) };
      },
    );

    const settle = (
      path: string,
      summary: string,
      extra: Record<string, ReturnType<typeof Type.Optional>>,
      run: (
        req: FastifyRequest<P & { Body: { tokens: string[]; delayMs?: number; leaseMs?: number } }>,
      ) => Promise<TokenOutcome[]>,
    ) => {
      app.post<P & { Body: { tokens: string[]; delayMs?: number; leaseMs?: number } }>(
        `/v1/streams/:name/consumers/:consumer/${path}`,
        {
          config: { access: consume },
          schema: {
            tags,
            summary,
            params: Params,
            body: Type.Object({ tokens: Tokens, ...extra }, { additionalProperties: false }),
            response: { 200: Outcomes, ...problemResponses },
          },
        },
        async (req) => ({ outcomes: await run(req) }),
      );
    };
    settle('ack', 'Leased style: acknowledge events', {}, (req) =>
      consumers.ack(req.params.name, req.params.consumer, req.body.tokens),
    );
    settle(
      'nack',
      'Leased style: give events back, redelivered after delayMs',
      { delayMs: Type.Optional(Type.Integer({ minimum: 0 })) },
      (req) => consumers.nack(req.params.name, req.params.consumer, req.body.tokens, req.body.delayMs ?? 0),
    );
    settle('release', 'Leased style: give events back now, not counted as a delivery', {}, (req) =>
      consumers.release(req.params.name, req.params.consumer, req.body.tokens),
    );
    settle('extend', 'Leased style: extend leases', { leaseMs: Type.Optional(Type.Integer()) }, (req) =>
      consumers.extend(req.params.name, req.params.consumer, req.body.tokens, req.body.leaseMs),
    );

    app.post<P & { Body: Static<typeof Start> }>(
      '/v1/streams/:name/consumers/:consumer/seek',
      {
        config: { access: consume },
        schema: {
          tags,
          summary: 'Move the consumer to a seq or a time (drops its leases)',
          params: Params,
          body: Start,
          response: { 200: Type.Ref('Consumer'), ...problemResponses },
        },
      },
      async (req) => consumers.seek(req.params.name, req.params.consumer, startOf(req.body)),
    );
  };
}

function renderDelivery(d: Delivery): Record<string, unknown> {
  return {
    event: renderEvent(d.event),
    deliveries: d.deliveries,
    firstDeliveredAt: new Date(d.firstDeliveredMs).toISOString(),
    leaseToken: d.leaseToken,
    leaseExpiresAt: new Date(d.leaseExpiresMs).toISOString(),
  };
}
