/** Native API: streams (`/v1/streams`). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CoreServices } from '../../core/services.js';
import { StreamCreate, StreamName, StreamUpdate, problemResponses } from '../schemas.js';

const streamParam = (req: FastifyRequest) => (req.params as { name?: string }).name;

export function streamsRoutes(services: Pick<CoreServices, 'streams'>) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.post<{ Body: Static<typeof StreamCreate> }>(
      '/v1/streams',
      {
        config: { access: { scope: 'manage', stream: (req) => (req.body as { name?: string } | undefined)?.name } },
        schema: {
          tags: ['streams'],
          summary: 'Create a stream',
          body: StreamCreate,
          response: { 201: Type.Ref('Stream'), ...problemResponses, 409: Type.Ref('Problem') },
        },
      },
      async (req, reply) => {
        const view = await services.streams.create(req.body, req.principal!.owner);
        return reply
          .code(201)
          .header('location', `/v1/streams/${encodeURIComponent(view.name)}`)
          .send(view);
      },
    );

    app.get<{ Querystring: { limit?: number; after?: string; prefix?: string } }>(
      '/v1/streams',
      {
        config: { access: { scope: 'authenticated' } },
        schema: {
          tags: ['streams'],
          summary: 'List the streams this key can see',
          querystring: Type.Object(
            {
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
              after: Type.Optional(Type.String({ description: 'the `next` of the previous page' })),
              prefix: Type.Optional(Type.String()),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              streams: Type.Array(Type.Ref('Stream')),
              next: Type.Union([Type.String(), Type.Null()]),
            }),
          },
        },
      },
      async (req) => {
        const principal = req.principal!;
        return services.streams.list({
          after: req.query.after,
          limit: req.query.limit ?? 100,
          prefix: req.query.prefix,
          visible: (name, owner) => principal.sees(name, owner),
        });
      },
    );

    app.get<{ Params: Static<typeof StreamName> }>(
      '/v1/streams/:name',
      {
        config: { access: { scope: 'consume', stream: streamParam } },
        schema: {
          tags: ['streams'],
          summary: 'Describe a stream, with counts and bounds',
          params: StreamName,
          response: { 200: Type.Ref('Stream'), ...problemResponses },
        },
      },
      async (req) => services.streams.describe(req.params.name),
    );

    app.patch<{ Params: Static<typeof StreamName>; Body: Static<typeof StreamUpdate> }>(
      '/v1/streams/:name',
      {
        config: { access: { scope: 'manage', stream: streamParam } },
        schema: {
          tags: ['streams'],
          summary: 'Change a stream’s settings',
          params: StreamName,
          body: StreamUpdate,
          response: { 200: Type.Ref('Stream'), ...problemResponses, 409: Type.Ref('Problem') },
        },
      },
      async (req) => {
        const { version, ...patch } = req.body;
        return services.streams.change(req.params.name, patch, version);
      },
    );

    app.delete<{ Params: Static<typeof StreamName> }>(
      '/v1/streams/:name',
      {
        config: { access: { scope: 'manage', stream: streamParam } },
        schema: {
          tags: ['streams'],
          summary: 'Delete a stream and all its events',
          params: StreamName,
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        await services.streams.delete(req.params.name);
        return reply.code(204).send();
      },
    );
  };
}
