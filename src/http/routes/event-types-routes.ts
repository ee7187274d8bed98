/**
 * Native API: event types (`/v1/event-types`), iFLUX's kinds of events (docs/rules.md): the
 * name or URL events carry as `type`, with an optional JSON Schema registered in the schema
 * registry for that type on the iFLUX stream (docs/schemas.md). Every route needs `manage` on
 * that stream, or admin; a non-admin sees only its owner's. Deleting one a rule uses is refused.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CompatibilityMode } from '../../core/schemas/compatibility.js';
import type { CoreServices } from '../../core/services.js';
import { problemResponses } from '../schemas.js';

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Schema = Type.Object(
  {},
  { additionalProperties: true, description: "a JSON Schema for the events' properties (data)" },
);
const Compatibility = Type.String({
  description: 'the compatibility mode the schema is checked under (BACKWARD by default)',
});

const EventTypeCreate = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    type: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'what events carry as `type`, e.g. /eventTypes/temperature',
    }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    schema: Type.Optional(Schema),
    compatibility: Type.Optional(Compatibility),
  },
  { additionalProperties: false },
);

const EventTypeUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    schema: Type.Optional(Schema),
    compatibility: Type.Optional(Compatibility),
  },
  { additionalProperties: false },
);

const EventType = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    name: Type.String(),
    description: Type.String(),
    owner: Type.String(),
    stream: Type.String(),
    schema: Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })]),
    schemaVersion: Type.Union([Type.Integer(), Type.Null()]),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'EventType', additionalProperties: true },
);

type ById = { Params: Static<typeof Id> };

export function eventTypesRoutes(services: Pick<CoreServices, 'eventTypes' | 'rules'>) {
  const types = services.eventTypes;
  const access = { scope: 'manage' as const, stream: () => services.rules.defaultStream };
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addSchema(EventType);
    const tags = ['rules'];
    const one = { 200: Type.Ref('EventType'), ...problemResponses };

    app.post<{ Body: Static<typeof EventTypeCreate> }>(
      '/v1/event-types',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Create an event type (its schema is registered on the iFLUX stream)',
          body: EventTypeCreate,
          response: { 201: Type.Ref('EventType'), ...problemResponses },
        },
      },
      async (req, reply) => {
        const { compatibility, ...rest } = req.body;
        const created = await types.create(
          { ...rest, ...(compatibility === undefined ? {} : { compatibility: compatibility as CompatibilityMode }) },
          req.principal!,
        );
        return reply
          .code(201)
          .header('location', `/v1/event-types/${encodeURIComponent(created.id)}`)
          .send(created);
      },
    );

    app.get<{ Querystring: { after?: string; limit?: number } }>(
      '/v1/event-types',
      {
        config: { access },
        schema: {
          tags,
          summary: "List event types (a non-admin key sees its owner's)",
          querystring: Type.Object(
            { after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              eventTypes: Type.Array(Type.Ref('EventType')),
              next: Type.Union([Type.String(), Type.Null()]),
            }),
            ...problemResponses,
          },
        },
      },
      async (req) => {
        const page = await types.list(req.principal!, { after: req.query.after, limit: req.query.limit ?? 100 });
        return { eventTypes: page.items, next: page.next };
      },
    );

    app.get<ById>(
      '/v1/event-types/:id',
      {
        config: { access },
        schema: { tags, summary: 'Describe an event type with its latest schema', params: Id, response: one },
      },
      async (req) => types.get(req.params.id, req.principal!),
    );

    app.patch<ById & { Body: Static<typeof EventTypeUpdate> }>(
      '/v1/event-types/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Change an event type; a schema registers a new version',
          params: Id,
          body: EventTypeUpdate,
          response: one,
        },
      },
      async (req) => {
        const { compatibility, ...rest } = req.body;
        return types.update(
          req.params.id,
          { ...rest, ...(compatibility === undefined ? {} : { compatibility: compatibility as CompatibilityMode }) },
          req.principal!,
        );
      },
    );

    app.delete<ById>(
      '/v1/event-types/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Delete an event type (409 while a rule uses it; its schema versions stay)',
          params: Id,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        await types.delete(req.params.id, req.principal!);
        return reply.code(204).send();
      },
    );
  };
}
