/** `GET /`: a person who opens the server's address in a browser lands on the console. */
import type { FastifyInstance } from 'fastify';

export async function rootRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/',
    {
      config: { access: { scope: 'public' } },
      schema: {
        tags: ['meta'],
        summary: 'Redirect to the web console',
      },
    },
    async (_req, reply) => reply.redirect('/console/', 302),
  );
}
