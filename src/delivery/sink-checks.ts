/**
 * The checks the core's SinkService runs when a sink is saved, built from the target registry,
 * the URL guard and the mapping layer (filter and transform compiled once, then dropped).
 */
import { RivuletError, isRivuletError } from '../kernel/errors.js';
import type { SinkChecks, SinkDryRun, SinkTarget } from '../core/sinks/sink-model.js';
import { compileEventFilter } from '../mapping/event-filter.js';
import { compileTransform } from '../mapping/transform.js';
import { resolveActionTargetSecrets } from './rules/action-target-secrets.js';
import type { TargetRegistry } from './targets/registry.js';
import type { TargetDeps } from './targets/target.js';

export function createSinkChecks(registry: TargetRegistry, deps: TargetDeps): SinkChecks {
  const factory = (kind: string) => {
    const found = registry.get(kind);
    if (found === undefined) {
      throw new RivuletError(
        'VALIDATION_FAILED',
        `target kind must be one of ${[...registry.keys()].join(', ')}; got ${JSON.stringify(kind)}`,
        { details: { pointer: '/target/kind' } },
      );
    }
    return found;
  };
  return {
    async target(kind, config, secrets) {
      const f = factory(kind);
      const stored = secrets?.stored?.kind === kind ? secrets.stored : null;
      const given =
        secrets === undefined || f.resolveSecrets === undefined
          ? config
          : f.resolveSecrets(config, stored, secrets.omitted);
      const checked = f.check(given);
      await f.verify?.(checked, deps);
      return { ...checked, kind } as SinkTarget;
    },
    actionTargetSecrets: resolveActionTargetSecrets,
    redact: (kind, config) => factory(kind).redact(config),
    writesTo: (kind, config) => factory(kind).writesTo?.(config) ?? [],
    mapping(filter, transform) {
      compileEventFilter(filter, { pointer: '/filter' });
      compileTransform(transform ?? undefined, { pointer: '/transform' });
    },
    async dryRun(filter, transform, target, event) {
      // the steps of the engine's source loop (engine/source-loop.ts), with the same compilers
      const answer: SinkDryRun = {
        matched: false,
        filterError: null,
        payload: null,
        transformError: null,
        delivery: null,
        deliveryError: null,
      };
      const passed = await compileEventFilter(filter, { pointer: '/filter' }).check(event);
      answer.matched = passed.matched;
      answer.filterError = passed.error?.message ?? null;
      if (!passed.matched) return answer;
      const compiled = compileTransform(transform ?? undefined, { pointer: '/transform' });
      try {
        answer.payload = compiled.source === undefined ? event.data : await compiled.apply(event);
      } catch (err) {
        answer.transformError = messageOf(err);
        return answer;
      }
      const f = factory(target.kind);
      if (f.preview === undefined) return answer;
      try {
        answer.delivery = f.preview(f.check(target), { ...event, data: answer.payload });
      } catch (err) {
        answer.deliveryError = messageOf(err);
      }
      return answer;
    },
  };
}

function messageOf(err: unknown): string {
  return isRivuletError(err) || err instanceof Error ? err.message : String(err);
}
