/** The sink checks of a core without a delivery layer: every target is refused. */
import { RivuletError } from '../../kernel/errors.js';
import type { SinkChecks } from './sink-model.js';

export const noTargets: SinkChecks = {
  target: async (kind) => {
    throw new RivuletError('VALIDATION_FAILED', `no sink targets are available here, so "${kind}" cannot be used`, {
      details: { pointer: '/target/kind' },
    });
  },
  // nothing to resolve against: without targets no action target can be saved either
  actionTargetSecrets: (given) => given,
  redact: (kind) => ({ kind }),
  writesTo: () => [],
  mapping: () => undefined,
  dryRun: async (_filter, _transform, target) => {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `no sink targets are available here, so "${target.kind}" cannot be used`,
      { details: { pointer: '/target/kind' } },
    );
  },
};
