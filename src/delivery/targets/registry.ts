/** The targets a sink can deliver to, by kind. A new target is one file and one line here. */
import type { JsonObject } from '../../kernel/envelope.js';
import { actionDispatchTarget } from '../rules/action-dispatch-target.js';
import { ruleTarget } from '../rules/rule-target.js';
import { httpTarget } from './http-target.js';
import { opensearchTarget } from './opensearch-target.js';
import { s3Target } from './s3-target.js';
import { streamTarget } from './stream-target.js';
import type { TargetFactory, TargetKind } from './target.js';

export type TargetRegistry = ReadonlyMap<string, TargetFactory<JsonObject>>;

export function defaultTargets(): TargetRegistry {
  const factories = [
    httpTarget,
    streamTarget,
    s3Target,
    opensearchTarget,
    ruleTarget,
    actionDispatchTarget,
  ] as unknown as TargetFactory<JsonObject>[];
  return new Map(factories.map((f) => [f.kind, f]));
}

export function isTargetKind(kind: string, registry: TargetRegistry): kind is TargetKind {
  return registry.has(kind);
}
