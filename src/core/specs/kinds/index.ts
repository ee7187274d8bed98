/**
 * The resource kinds a spec may declare, in the order their sections are planned: what others
 * depend on first (streams before the sinks reading them, action targets before the rules
 * calling them). A new kind is one file (see docs/specs.md, "Adding a kind").
 */
import type { SpecResourceKind } from '../resource-kind.js';
import { actionTargetKind } from './action-target-kind.js';
import { eventSourceKind } from './event-source-kind.js';
import { ruleKind } from './rule-kind.js';
import { schemaKind } from './schema-kind.js';
import { sinkKind } from './sink-kind.js';
import { streamKind } from './stream-kind.js';

const any = (kind: unknown) => kind as SpecResourceKind;

export const DEFAULT_KINDS: readonly SpecResourceKind[] = [
  any(streamKind),
  any(schemaKind),
  any(eventSourceKind),
  any(actionTargetKind),
  any(sinkKind),
  any(ruleKind),
];
