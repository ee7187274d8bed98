/**
 * `rules:` in a spec: iFLUX event-condition-action rules (docs/rules.md), by id. Every field is
 * declarative; `streams` is required here (a spec names what it reads), `start` only matters
 * when the rule is created. References resolve as the spec's owner: to event sources and action
 * targets declared in the same spec (the rule's pipeline waits for theirs) or existing ones of
 * that owner, and to existing event types. A changed rule is updated in place through
 * RuleService: its sinks keep their positions; `enabled: false → true` starts from the tail.
 */
import type { JsonObject, JsonValue } from '../../../kernel/envelope.js';
import { compileRule } from '../../rules/match.js';
import type { Actor, RuleActionRef, RuleConditionRef, RuleRecord } from '../../rules/rule-model.js';
import {
  actionRefs,
  checkDelivery,
  checkId,
  checkStreams,
  checkText,
  conditionRefs,
} from '../../rules/rule-validation.js';
import { canonicalJson } from '../canonical-json.js';
import type { ApplyOutcome, Diff, KindContext, ResourceRef, SpecResourceKind } from '../resource-kind.js';
import type { FieldChange } from '../revision-model.js';
import { checkedEntry, isPlainObject, onlyFields, specInvalid } from '../spec-invalid.js';
import { assertSpecOwns, deleteById, readById } from './owned-by-id.js';
import { parseStart, startPosition } from './start-position.js';

export interface RuleSpec extends JsonObject {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  streams: string[];
  conditions: JsonObject[];
  actions: JsonObject[];
  delivery: JsonObject | null;
  start: JsonObject | null;
}

const FIELDS = [
  'id',
  'name',
  'description',
  'enabled',
  'streams',
  'conditions',
  'actions',
  'delivery',
  'start',
] as const;
const COMPARED = ['name', 'description', 'enabled', 'streams', 'conditions', 'actions', 'delivery'] as const;

function parse(entry: unknown, pointer: string): RuleSpec {
  if (!isPlainObject(entry))
    throw specInvalid('a rule is an object with "id", "streams", "conditions" and "actions"', pointer);
  onlyFields(entry, FIELDS, pointer);
  if (entry.streams === undefined || entry.streams === null)
    throw specInvalid('"streams" is required in a spec: the streams the rule reads', `${pointer}/streams`);
  if (entry.enabled !== undefined && typeof entry.enabled !== 'boolean')
    throw specInvalid('"enabled" is true or false', `${pointer}/enabled`);
  return checkedEntry(() => {
    const id = checkId(entry.id, 'a rule');
    const name = checkText(entry.name, '/name', { max: 200 });
    const description = checkText(entry.description, '/description', { max: 2000 });
    const streams = checkStreams(entry.streams, '');
    // checks the shape and compiles every expression; errors carry pointers under the rule
    compileRule({ conditions: entry.conditions, actions: entry.actions } as never);
    return {
      id,
      name,
      description,
      streams,
      enabled: (entry.enabled as boolean | undefined) ?? true,
      conditions: conditionRefs(entry.conditions as RuleConditionRef[]) as JsonObject[],
      actions: actionRefs(entry.actions as RuleActionRef[]) as unknown as JsonObject[],
      delivery: checkDelivery(entry.delivery) as JsonObject | null,
      start: parseStart(entry.start, `${pointer}/start`),
    };
  }, pointer);
}

function read(key: string, ctx: KindContext): Promise<RuleRecord | null> {
  return readById((reader) => ctx.rules.get(key, reader), 'RULE_NOT_FOUND');
}

function diff(desired: RuleSpec | null, current: RuleRecord | null): Diff {
  if (!desired)
    return current
      ? { action: 'delete', changes: [{ path: '', from: current.id }] }
      : { action: 'unchanged', changes: [] };
  if (!current) {
    const changes: FieldChange[] = [
      { path: '/streams', to: desired.streams },
      { path: '/conditions', to: desired.conditions },
      { path: '/actions', to: desired.actions },
    ];
    if (!desired.enabled) changes.push({ path: '/enabled', to: false });
    return { action: 'create', changes };
  }
  const have = current as unknown as Record<string, JsonValue>;
  const changes: FieldChange[] = COMPARED.filter(
    (f) => canonicalJson(desired[f] ?? null) !== canonicalJson(have[f] ?? null),
  ).map((f) => ({ path: `/${f}`, from: have[f] ?? null, to: desired[f] ?? null }));
  return { action: changes.length > 0 ? 'update' : 'unchanged', changes };
}

async function apply(desired: RuleSpec, current: RuleRecord | null, ctx: KindContext): Promise<ApplyOutcome> {
  const actor: Actor = { owner: ctx.owner, admin: false };
  const definition = {
    name: desired.name,
    description: desired.description,
    streams: desired.streams,
    conditions: desired.conditions as RuleConditionRef[],
    actions: desired.actions as unknown as RuleActionRef[],
    delivery: desired.delivery,
  };
  if (!current) {
    await ctx.rules.create(
      { id: desired.id, ...definition, enabled: desired.enabled, start: startPosition(desired.start) },
      actor,
    );
    return { log: [`created rule "${desired.id}" reading ${desired.streams.join(', ')}`] };
  }
  assertSpecOwns('rule', 'rule', desired.id, current.owner, ctx.owner);
  const { action, changes } = diff(desired, current);
  if (action === 'unchanged') return { log: [`rule "${desired.id}" already as declared`] };
  const fields = changes.map((c) => c.path.slice(1));
  if (fields.some((f) => f !== 'enabled'))
    await ctx.rules.update(desired.id, { ...definition, delivery: definition.delivery ?? null } as never, actor);
  if (desired.enabled !== current.enabled)
    await (desired.enabled ? ctx.rules.enable(desired.id, actor) : ctx.rules.disable(desired.id, actor));
  return { log: [`updated rule "${desired.id}" in place: ${fields.join(', ')}`] };
}

async function remove(key: string, current: RuleRecord | null, ctx: KindContext): Promise<ApplyOutcome> {
  if (!current) return { log: [`rule "${key}" already gone`] };
  await deleteById((reader) => ctx.rules.delete(key, reader), 'RULE_NOT_FOUND');
  return { log: [`deleted rule "${key}" with its sinks and actions stream`] };
}

/** its streams, and the event sources and action targets it names (when the spec declares them) */
function references(rule: Pick<RuleRecord, 'streams' | 'conditions' | 'actions'>): ResourceRef[] {
  const refs: ResourceRef[] = rule.streams.map((key) => ({ kind: 'streams', key }));
  for (const c of rule.conditions)
    if (c.eventSourceId !== undefined) refs.push({ kind: 'eventSources', key: c.eventSourceId });
  for (const a of rule.actions) refs.push({ kind: 'actionTargets', key: a.actionTargetId });
  return refs;
}

export const ruleKind: SpecResourceKind<RuleSpec, RuleRecord> = {
  section: 'rules',
  noun: 'rule',
  parse,
  key: (d) => d.id,
  read,
  diff,
  apply,
  delete: remove,
  dependencies: (_key, desired, current) => {
    const rule = (desired as unknown as RuleRecord | null) ?? current;
    return rule ? references(rule) : [];
  },
  streamsOf: (_key, desired) => desired.streams,
};
