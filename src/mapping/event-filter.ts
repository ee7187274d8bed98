/**
 * The filter of a sink (and of anything else that selects events): event types and sources as
 * exact names or `*` patterns, plus an optional JSONata condition over the event envelope.
 *
 * Everything is checked when the filter is compiled, so a sink is refused at creation rather
 * than failing on its first event. Cheap checks (types, sources) run before the condition.
 * See docs/expressions.md.
 */

import { RivuletError } from '../kernel/errors.js';
import type { StoredEvent } from '../kernel/envelope.js';
import { compileCondition, type ConditionOutcome, type ExpressionLimits } from './expression.js';

export interface EventFilterSpec {
  /** event types: exact names or patterns where `*` stands for any run of characters */
  types?: string[];
  /** event sources, matched like `types` */
  sources?: string[];
  /** JSONata expression over the event envelope; the event passes when it is truthy */
  condition?: string;
}

export interface EventFilterOptions {
  /** JSON Pointer of the filter in the request that defined it */
  pointer?: string;
  limits?: Partial<ExpressionLimits>;
}

export interface CompiledEventFilter {
  readonly spec: Readonly<EventFilterSpec>;
  /** true when the event passes; a condition that fails to evaluate does not pass */
  matches(event: StoredEvent): Promise<boolean>;
  /** like `matches`, with the condition's evaluation error (if any) for the caller to log */
  check(event: StoredEvent): Promise<ConditionOutcome>;
}

export const MAX_PATTERNS = 100;
export const MAX_PATTERN_LENGTH = 256;

const SPEC_KEYS = new Set(['types', 'sources', 'condition']);

/** Compiles a filter; an absent or empty spec matches every event. */
export function compileEventFilter(
  spec: EventFilterSpec | null | undefined,
  opts: EventFilterOptions = {},
): CompiledEventFilter {
  const base = opts.pointer ?? '/filter';
  const normalised = validateSpec(spec ?? {}, base);
  const typeMatches = compilePatternList(normalised.types, `${base}/types`);
  const sourceMatches = compilePatternList(normalised.sources, `${base}/sources`);
  const condition =
    normalised.condition === undefined
      ? undefined
      : compileCondition(normalised.condition, { ...opts.limits, pointer: `${base}/condition` });

  const check = async (event: StoredEvent): Promise<ConditionOutcome> => {
    if (!typeMatches(event.type) || !sourceMatches(event.source)) return { matched: false };
    return condition === undefined ? { matched: true } : condition.check(event);
  };
  return { spec: normalised, check, matches: async (event) => (await check(event)).matched };
}

/** Compiles one pattern into a predicate; `*` matches any run of characters, even none. */
export function compileGlob(pattern: string, pointer = ''): (value: string) => boolean {
  const problem = patternProblem(pattern);
  if (problem !== undefined) throw badRequest(problem, pointer);
  if (!pattern.includes('*')) return (value) => value === pattern;
  return (value) => globMatches(pattern, value);
}

function validateSpec(spec: unknown, base: string): Readonly<EventFilterSpec> {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw badRequest('filter must be an object', base);
  for (const key of Object.keys(spec)) {
    // a misspelt key would otherwise silently widen the filter to every event
    if (!SPEC_KEYS.has(key))
      throw badRequest(
        `unknown filter field "${key}"; expected types, sources or condition`,
        `${base}/${escapePointer(key)}`,
      );
  }
  const { types, sources, condition } = spec as Record<string, unknown>;
  const out: EventFilterSpec = {};
  if (types !== undefined) out.types = validateList(types, `${base}/types`);
  if (sources !== undefined) out.sources = validateList(sources, `${base}/sources`);
  if (condition !== undefined) {
    if (typeof condition !== 'string') {
      throw new RivuletError('INVALID_EXPRESSION', 'condition must be a string', {
        details: { pointer: `${base}/condition` },
      });
    }
    out.condition = condition;
  }
  return Object.freeze(out);
}

function validateList(list: unknown, pointer: string): string[] {
  if (!Array.isArray(list)) throw badRequest('must be an array of names or patterns', pointer);
  // an empty list is ambiguous (nothing, or no constraint?), so it is refused
  if (list.length === 0) throw badRequest('must list at least one name or pattern; leave it out to match all', pointer);
  if (list.length > MAX_PATTERNS)
    throw badRequest(`lists ${list.length} entries; the limit is ${MAX_PATTERNS}`, pointer);
  return list.map((entry, i) => {
    if (typeof entry !== 'string') throw badRequest('must be a string', `${pointer}/${i}`);
    return entry;
  });
}

function compilePatternList(patterns: string[] | undefined, pointer: string): (value: string) => boolean {
  if (patterns === undefined) return () => true;
  const predicates = patterns.map((pattern, i) => compileGlob(pattern, `${pointer}/${i}`));
  return (value) => predicates.some((matches) => matches(value));
}

function patternProblem(pattern: string): string | undefined {
  if (typeof pattern !== 'string') return 'pattern must be a string';
  if (pattern.length === 0) return 'pattern is empty';
  if (pattern.length > MAX_PATTERN_LENGTH)
    return `pattern is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'pattern contains a control character';
  return undefined;
}

/**
 * Wildcard matching without regular expressions: backtracks only to the last `*`, so the
 * cost is at most pattern length × value length whatever the pattern.
 */
function globMatches(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

function badRequest(message: string, pointer: string): RivuletError {
  return new RivuletError('BAD_REQUEST', pointer === '' ? message : `${pointer}: ${message}`, { details: { pointer } });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
