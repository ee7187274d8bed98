/** The iFLUX dialect (seed 004) as the runtime composes it. */
import type { RuleService } from '../../core/rules/rule-service.js';
import type { Dialect } from '../../http/dialect.js';
import { ifluxSample } from './iflux-input.js';
import { ifluxDialect, ifluxMount, type IfluxOptions, type IfluxServices } from './iflux-plugin.js';

export function iflux(services: IfluxServices & { rules: RuleService }, options?: IfluxOptions): Dialect {
  // a rule's dry run (on every API) takes a sample in iFLUX's shape as well as a native event
  services.rules.addSampleShape(ifluxSample);
  return {
    name: 'iflux',
    mounts: [ifluxMount],
    async register(app) {
      await app.register(ifluxDialect(services, options));
    },
  };
}
