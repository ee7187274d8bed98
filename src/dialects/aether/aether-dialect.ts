/** The Aether dialect (seed 002) as the runtime composes it. */
import type { Dialect } from '../../http/dialect.js';
import type { AetherOptions, AetherServices } from './aether-jobs.js';
import { aetherDialect, aetherMount } from './aether-plugin.js';

export function aether(services: AetherServices, options?: AetherOptions): Dialect {
  return {
    name: 'aether',
    mounts: [aetherMount],
    async register(app) {
      await app.register(aetherDialect(services, options));
    },
  };
}
