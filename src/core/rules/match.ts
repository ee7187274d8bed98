/**
 * Rule matching, with iFLUX's semantics:
 * - a condition matches when ALL the parts it specifies match: `eventSourceId` equals the
 *   event's source, `eventTypeId` equals its type, `expression` is truthy over the event;
 * - a condition that specifies no part NEVER matches (it would otherwise fire on everything);
 * - ANY matching condition fires ALL of the rule's actions.
 * Each action's properties are built by its transform over the event envelope, or are the
 * event's `data` (iFLUX's `properties`) when it has none.
 *
 * Pure domain: no HTTP, no storage. See docs/expressions.md.
 */

import { RivuletError } from '../../kernel/errors.js';
import type { JsonValue, StoredEvent } from '../../kernel/envelope.js';
import { compileCondition, type ExpressionLimits } from '../../mapping/expression.js';
import { compileTransform, toJsonResult } from '../../mapping/transform.js';

export interface RuleCondition {
  eventSourceId?: string;
  eventTypeId?: string;
  /** JSONata expression over the event envelope */
  expression?: string;
}

export interface RuleAction {
  actionTargetId: string;
  actionTypeId: string;
  /** JSONata expression over the event envelope building the action's properties */
  transform?: string;
}

export interface Rule {
  conditions: RuleCondition[];
  actions: RuleAction[];
}

export interface RenderedAction {
  actionTargetId: string;
  actionTypeId: string;
  properties: JsonValue;
}

/** A condition whose expression failed on the event: it did not match, and the caller logs it. */
export interface ConditionFailure {
  index: number;
  pointer: string;
  error: RivuletError;
}

export interface RuleEvaluation {
  /** indexes of the conditions that matched, in order */
  matchedConditions: number[];
  /** every action, rendered, when at least one condition matched; otherwise empty */
  matchedActions: RenderedAction[];
  conditionErrors: ConditionFailure[];
}

export interface CompiledRule {
  readonly rule: Readonly<Rule>;
  /** Throws INVALID_EXPRESSION (with the action's pointer) when a transform fails on the event. */
  evaluate(event: StoredEvent): Promise<RuleEvaluation>;
}

export interface RuleOptions {
  /** JSON Pointer of the rule in the request that defined it; '' when it is the whole body */
  pointer?: string;
  limits?: Partial<ExpressionLimits>;
}

interface ConditionMatcher {
  pointer: string;
  test(event: StoredEvent): Promise<{ matched: boolean; error?: RivuletError }>;
}

interface ActionRenderer {
  render(event: StoredEvent): Promise<RenderedAction>;
}

const CONDITION_KEYS = new Set(['eventSourceId', 'eventTypeId', 'expression']);
const ACTION_KEYS = new Set(['actionTargetId', 'actionTypeId', 'transform']);

/** Validates the rule and compiles every expression up front; errors carry a JSON Pointer. */
export function compileRule(rule: Rule, opts: RuleOptions = {}): CompiledRule {
  const base = opts.pointer ?? '';
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) throw invalid('rule must be an object', base);
  const conditions = nonEmptyArray(rule.conditions, `${base}/conditions`, 'condition').map((c, i) =>
    compileRuleCondition(c, `${base}/conditions/${i}`, opts.limits),
  );
  const actions = nonEmptyArray(rule.actions, `${base}/actions`, 'action').map((a, i) =>
    compileRuleAction(a, `${base}/actions/${i}`, opts.limits),
  );

  return {
    rule,
    async evaluate(event) {
      const matchedConditions: number[] = [];
      const conditionErrors: ConditionFailure[] = [];
      for (const [index, condition] of conditions.entries()) {
        const outcome = await condition.test(event);
        if (outcome.matched) matchedConditions.push(index);
        if (outcome.error !== undefined)
          conditionErrors.push({ index, pointer: condition.pointer, error: outcome.error });
      }
      const matchedActions =
        matchedConditions.length === 0 ? [] : await Promise.all(actions.map((a) => a.render(event)));
      return { matchedConditions, matchedActions, conditionErrors };
    },
  };
}

/**
 * Evaluates a rule against a sample event, as iFLUX's rule dry run did. Throws RULE_NOT_MATCHED
 * (with the failed expressions, if any, in details) when no condition matched.
 */
export async function dryRun(rule: Rule | CompiledRule, event: StoredEvent): Promise<RuleEvaluation> {
  const compiled = isCompiledRule(rule) ? rule : compileRule(rule);
  const result = await compiled.evaluate(event);
  if (result.matchedConditions.length === 0) {
    throw new RivuletError('RULE_NOT_MATCHED', undefined, {
      details: {
        conditionErrors: result.conditionErrors.map((f) => ({ pointer: f.pointer, message: f.error.message })),
      },
    });
  }
  return result;
}

function isCompiledRule(rule: Rule | CompiledRule): rule is CompiledRule {
  return typeof (rule as Partial<CompiledRule>).evaluate === 'function';
}

function compileRuleCondition(
  condition: unknown,
  pointer: string,
  limits: Partial<ExpressionLimits> | undefined,
): ConditionMatcher {
  const spec = checkFields(condition, pointer, CONDITION_KEYS, 'condition');
  const source = optionalName(spec.eventSourceId, `${pointer}/eventSourceId`);
  const type = optionalName(spec.eventTypeId, `${pointer}/eventTypeId`);
  const expression = optionalExpression(spec.expression, `${pointer}/expression`, (src, p) =>
    compileCondition(src, { ...limits, pointer: p }),
  );
  const empty = source === undefined && type === undefined && expression === undefined;
  return {
    pointer: `${pointer}/expression`,
    async test(event) {
      if (empty) return { matched: false };
      if (source !== undefined && event.source !== source) return { matched: false };
      if (type !== undefined && event.type !== type) return { matched: false };
      return expression === undefined ? { matched: true } : expression.check(event);
    },
  };
}

function compileRuleAction(
  action: unknown,
  pointer: string,
  limits: Partial<ExpressionLimits> | undefined,
): ActionRenderer {
  const spec = checkFields(action, pointer, ACTION_KEYS, 'action');
  const actionTargetId = requiredName(spec.actionTargetId, `${pointer}/actionTargetId`);
  const actionTypeId = requiredName(spec.actionTypeId, `${pointer}/actionTypeId`);
  const transform = optionalExpression(spec.transform, `${pointer}/transform`, (src, p) =>
    compileTransform(src, { ...limits, pointer: p }),
  );
  return {
    async render(event) {
      const properties = transform === undefined ? toJsonResult(event.data) : await transform.apply(event);
      return { actionTargetId, actionTypeId, properties };
    },
  };
}

function nonEmptyArray(value: unknown, pointer: string, what: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(`must be an array of ${what}s`, pointer);
  // a rule without conditions can never fire, and one without actions does nothing
  if (value.length === 0) throw invalid(`must hold at least one ${what}`, pointer);
  return value;
}

function checkFields(value: unknown, pointer: string, allowed: Set<string>, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid(`${what} must be an object`, pointer);
  for (const key of Object.keys(value)) {
    if (!allowed.has(key))
      throw invalid(
        `unknown ${what} field "${key}"; expected ${[...allowed].join(', ')}`,
        `${pointer}/${escapePointer(key)}`,
      );
  }
  return value as Record<string, unknown>;
}

function optionalName(value: unknown, pointer: string): string | undefined {
  return value === undefined ? undefined : requiredName(value, pointer);
}

function requiredName(value: unknown, pointer: string): string {
  if (typeof value !== 'string' || value === '') throw invalid('must be a non-empty string', pointer);
  return value;
}

function optionalExpression<T>(
  value: unknown,
  pointer: string,
  compile: (source: string, pointer: string) => T,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new RivuletError('INVALID_EXPRESSION', `${pointer}: expression must be a string`, { details: { pointer } });
  }
  return compile(value, pointer);
}

function invalid(message: string, pointer: string): RivuletError {
  return new RivuletError('BAD_REQUEST', pointer === '' ? message : `${pointer}: ${message}`, { details: { pointer } });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
