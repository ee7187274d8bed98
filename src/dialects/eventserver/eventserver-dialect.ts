/** The event server dialect (seed 001) as the runtime composes it. */
import type { Dialect } from '../../http/dialect.js';
import {
  EVENTSERVER_PREFIX,
  eventServerDialect,
  eventServerMount,
  type EventServerServices,
} from './eventserver-plugin.js';

export function eventServer(services: EventServerServices): Dialect {
  return {
    name: 'eventserver',
    mounts: [eventServerMount],
    async register(app) {
      await app.register(eventServerDialect(services), { prefix: EVENTSERVER_PREFIX });
    },
  };
}
