/** The spec store dialect (seed 003) as the runtime composes it. */
import type { CoreServices } from '../../core/services.js';
import type { Dialect } from '../../http/dialect.js';
import { specstoreDialect, specstoreMount } from './specstore-plugin.js';

export function specstore(services: Pick<CoreServices, 'specs'>): Dialect {
  return {
    name: 'specstore',
    mounts: [specstoreMount],
    async register(app) {
      await app.register(specstoreDialect(services), { prefix: '/source' });
    },
  };
}
