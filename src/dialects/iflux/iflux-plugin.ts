/**
 * The iFLUX dialect (seed 004): `POST /events` (and `/events/`) with a list of
 * `{timestamp, source, type, properties}` (or one such object) → 202 with no body. The batch
 * is written all or nothing into one configurable stream, created on first use. Anonymous
 * posting is allowed only when the operator turns it on. Errors are
 * `{"error": message, "index"?: n, "field"?: "properties"}` with the native API's statuses.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { uuidv7 } from '../../core/events/uuid-v7.js';
import { eventsFromIflux } from './iflux-input.js';
import type { CoreServices } from '../../core/services.js';
import { errorHandlerFor, nativeStatus, publicMessage } from '../../http/dialect-errors.js';
import type { ApiMount } from '../../http/unrouted.js';

export interface IfluxOptions {
  /** the stream iFLUX events are written to */
  stream: string;
  /** accept events without a key */
  anonymous: boolean;
}

export const IFLUX_DEFAULTS: IfluxOptions = { stream: 'iflux', anonymous: false };

const ifluxErrorHandler = errorHandlerFor({
  answer(err) {
    const status = nativeStatus(err);
    const body: Record<string, unknown> = { error: publicMessage(err, status) };
    if (typeof err.details?.index === 'number') body.index = err.details.index;
    const pointer = err.details?.pointer;
    if (typeof pointer === 'string' && pointer.length > 0)
      body.field = pointer
        .split('/')
        .filter((p) => p !== '' && !/^\d+$/.test(p))
        .join('.');
    return { status, type: 'application/json; charset=utf-8', body };
  },
});

export const ifluxMount: ApiMount = {
  name: 'iflux',
  claims: (path) => path === '/events' || path.startsWith('/events/'),
  errorHandler: ifluxErrorHandler,
};

/** what iFLUX's routes use */
export type IfluxServices = Pick<CoreServices, 'produce' | 'streams'>;

export function ifluxDialect(services: IfluxServices, options: IfluxOptions = IFLUX_DEFAULTS) {
  return async function iflux(app: FastifyInstance): Promise<void> {
    app.setErrorHandler(ifluxErrorHandler);
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const producer = req.principal ? `key:${req.principal.key.id}` : null;
      const events = eventsFromIflux(req.body, { producer, newId: uuidv7 });
      if (events.length > 0) {
        await services.streams.ensure(
          { name: options.stream, description: 'events posted through the iFLUX API' },
          req.principal?.owner ?? 'iflux',
        );
        await services.produce.produce({ stream: options.stream, events, producer });
      }
      return reply.code(202).send();
    };
    for (const url of ['/events', '/events/']) {
      app.post(
        url,
        {
          config: {
            access: { scope: 'produce', stream: () => options.stream, allowAnonymous: () => options.anonymous },
          },
          schema: { hide: true },
        },
        handler,
      );
    }
  };
}
