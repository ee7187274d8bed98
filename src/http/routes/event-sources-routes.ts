/**
 * Native API: event sources (`/v1/event-sources`), iFLUX's reporters of events (docs/rules.md).
 * Each has a generated public identifier; its events carry `/event-sources/<publicId>` as
 * `source`. Every route needs `manage` on the rules' stream (the iFLUX stream), or admin; a
 * non-admin sees only its owner's. Deleting one a rule uses is refused (409 naming the rule).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CoreServices } from '../../core/services.js';
import { problemResponses } from '../schemas.js';

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

const EventSourceCreate = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    publicId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'the public identifier (generated when absent)' }),
    ),
  },
  { additionalProperties: false },
);

const EventSourceUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

const EventSource = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    owner: Type.String(),
    publicId: Type.String(),
    source: Type.String({ description: 'what its events carry as `source`' }),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'EventSource', additionalProperties: true },
);

type ById = { Params: Static<typeof Id> };

export function eventSourcesRoutes(services: Pick<CoreServices, 'eventSources' | 'rules'>) {
  const sources = services.eventSources;
  const access = { scope: 'manage' as const, stream: () => services.rules.defaultStream };
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addSchema(EventSource);
    const tags = ['rules'];
    const one = { 200: Type.Ref('EventSource'), ...problemResponses };

    app.post<{ Body: Static<typeof EventSourceCreate> }>(
      '/v1/event-sources',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Create an event source',
          body: EventSourceCreate,
          response: { 201: Type.Ref('EventSource'), ...problemResponses },
        },
      },
      async (req, reply) => {
        const created = await sources.create(req.body, req.principal!);
        return reply
          .code(201)
          .header('location', `/v1/event-sources/${encodeURIComponent(created.id)}`)
          .send(created);
      },
    );

    app.get<{ Querystring: { after?: string; limit?: number } }>(
      '/v1/event-sources',
      {
        config: { access },
        schema: {
          tags,
          summary: "List event sources (a non-admin key sees its owner's)",
          querystring: Type.Object(
            { after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              eventSources: Type.Array(Type.Ref('EventSource')),
              next: Type.Union([Type.String(), Type.Null()]),
            }),
            ...problemResponses,
          },
        },
      },
      async (req) => {
        const page = await sources.list(req.principal!, { after: req.query.after, limit: req.query.limit ?? 100 });
        return { eventSources: page.items, next: page.next };
      },
    );

    app.get<ById>(
      '/v1/event-sources/:id',
      {
        config: { access },
        schema: { tags, summary: 'Describe an event source', params: Id, response: one },
      },
      async (req) => sources.get(req.params.id, req.principal!),
    );

    app.patch<ById & { Body: Static<typeof EventSourceUpdate> }>(
      '/v1/event-sources/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Rename or describe an event source (its public identifier never changes)',
          params: Id,
          body: EventSourceUpdate,
          response: one,
        },
      },
      async (req) => sources.update(req.params.id, req.body, req.principal!),
    );

    app.delete<ById>(
      '/v1/event-sources/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Delete an event source (409 while a rule uses it)',
          params: Id,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        await sources.delete(req.params.id, req.principal!);
        return reply.code(204).send();
      },
    );
  };
}
