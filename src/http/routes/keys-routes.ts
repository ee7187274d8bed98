/** Native API: API keys (`/v1/keys`), for admins. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CoreServices } from '../../core/services.js';
import { KeyCreate, problemResponses } from '../schemas.js';

export function keysRoutes(services: Pick<CoreServices, 'keys'>) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.post<{ Body: Static<typeof KeyCreate> }>(
      '/v1/keys',
      {
        config: { access: { scope: 'admin' } },
        schema: {
          tags: ['keys'],
          summary: 'Create a key; its secret is shown only in this answer',
          body: KeyCreate,
          response: { 201: Type.Object({ key: Type.Ref('Key'), secret: Type.String() }), ...problemResponses },
        },
      },
      async (req, reply) => reply.code(201).send(await services.keys.create(req.body)),
    );

    app.get(
      '/v1/keys',
      {
        config: { access: { scope: 'admin' } },
        schema: {
          tags: ['keys'],
          summary: 'List keys (never their secrets)',
          response: { 200: Type.Object({ keys: Type.Array(Type.Ref('Key')) }), ...problemResponses },
        },
      },
      async () => ({ keys: await services.keys.list() }),
    );

    app.get<{ Params: { id: string } }>(
      '/v1/keys/:id',
      {
        config: { access: { scope: 'admin' } },
        schema: {
          tags: ['keys'],
          summary: 'Describe a key',
          params: Type.Object({ id: Type.String() }),
          response: { 200: Type.Ref('Key'), ...problemResponses },
        },
      },
      async (req) => services.keys.get(req.params.id),
    );

    app.delete<{ Params: { id: string } }>(
      '/v1/keys/:id',
      {
        config: { access: { scope: 'admin' } },
        schema: {
          tags: ['keys'],
          summary: 'Revoke a key',
          params: Type.Object({ id: Type.String() }),
          response: { 204: Type.Null(), ...problemResponses },
        },
      },
      async (req, reply) => {
        await services.keys.revoke(req.params.id);
        return reply.code(204).send();
      },
    );

    app.get(
      '/v1/whoami',
      {
        config: { access: { scope: 'authenticated' } },
        schema: { tags: ['keys'], summary: 'The key this request was made with', response: { 200: Type.Ref('Key') } },
      },
      async (req) => req.principal!.key,
    );
  };
}
