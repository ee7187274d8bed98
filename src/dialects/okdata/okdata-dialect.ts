/**
 * The okdata dialect (seed 000) as the runtime composes it: its dataset lifecycle service
 * (okdata-service.ts), whose subscribable switch it hands to live following, and its routes at
 * the root (the seed's curl examples) and under /streams (as in production).
 */
import type { Dialect } from '../../http/dialect.js';
import { ROOT_DATASET_SEGMENT, okdataApiMount, okdataDialect } from './okdata-plugin.js';
import { OkdataService, type OkdataDeps } from './okdata-service.js';

export interface OkdataDialect extends Dialect {
  readonly service: OkdataService;
}

export function okdata(deps: OkdataDeps): OkdataDialect {
  const service = new OkdataService(deps);
  // okdata's subscribable switch governs live following of its streams, on every API
  deps.live.addFollowCheck(service.mayFollow);
  return {
    name: 'okdata',
    service,
    mounts: [okdataApiMount],
    async register(app) {
      // static routes keep precedence over the root mount's dataset segment
      await app.register(okdataDialect(service, { datasetSegment: ROOT_DATASET_SEGMENT, ownNotFound: false }));
      await app.register(okdataDialect(service, { datasetSegment: '/:dataset', ownNotFound: true }), {
        prefix: '/streams',
      });
    },
  };
}
