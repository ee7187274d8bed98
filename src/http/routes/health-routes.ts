/** Liveness and readiness probes; public so orchestrators need no key. */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/port.js';

export function healthRoutes(store: Pick<Store, 'kind' | 'health'>, isShuttingDown: () => boolean) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get(
      '/healthz',
      {
        config: { access: { scope: 'public' } },
        schema: { tags: ['health'], summary: 'The process is alive', hide: false },
      },
      async () => ({ status: 'ok' }),
    );
    app.get(
      '/readyz',
      { config: { access: { scope: 'public' } }, schema: { tags: ['health'], summary: 'The server can take traffic' } },
      async (_req, reply) => {
        if (isShuttingDown()) return reply.code(503).send({ status: 'shutting-down' });
        const health = await store.health();
        return reply
          .code(health.ok ? 200 : 503)
          .send(
            health.ok
              ? { status: 'ready', store: store.kind }
              : { status: 'unavailable', store: store.kind, reason: health.detail },
          );
      },
    );
  };
}
