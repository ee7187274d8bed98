/** The Durable Streams dialect as the runtime composes it. */
import type { Dialect } from '../../http/dialect.js';
import type { DsOptions, DsServices } from './ds-context.js';
import { dsMount, durableStreamsDialect } from './ds-plugin.js';

export function durableStreams(
  services: DsServices,
  options: Partial<DsOptions> | undefined,
  limits: { maxJsonDepth: number },
): Dialect {
  return {
    name: 'durable-streams',
    mounts: [dsMount],
    async register(app) {
      await app.register(durableStreamsDialect(services, options, limits));
    },
  };
}
