/**
 * Evaluating one value against a schema, three-valued: "yes", "no", or "unknown" whenever a
 * keyword is not understood, so that only sure answers are used as proofs.
 */

import {
  asRecord,
  compilePattern,
  isNonNegativeInteger,
  jsonEqual,
  parseTypes,
  passesMultipleOf,
  spend,
  typeOfValue,
} from './json.js';
import {
  childRef,
  hasKeyword,
  isAnnotation,
  keyword,
  KNOWN_KEYWORDS,
  omitting,
  ownKeys,
  pointerTo,
  resolveRef,
  type SchemaRef,
} from './documents.js';
import {
  arrayView,
  declaredBounds,
  hasUncertainKeyword,
  itemAt,
  objectView,
  type Side,
  valueRefs,
} from './keyword-views.js';

type Verdict =
  { readonly kind: 'yes' } | { readonly kind: 'no' | 'unknown'; readonly keyword: string; readonly at: string };

const YES: Verdict = { kind: 'yes' };
const MAX_EVALUATION_DEPTH = 64;
const EVALUATION_BUDGET = 5_000;

/** Nesting depth, and a call budget shared by one evaluation: recursive schemas can branch. */
interface Walk {
  readonly depth: number;
  readonly budget: { remaining: number };
}

function deeper(walk: Walk): Walk {
  return { depth: walk.depth + 1, budget: walk.budget };
}

function refuse(ref: SchemaRef, name: string): Verdict {
  return { kind: 'no', keyword: name, at: pointerTo(ref, name) };
}

function unsure(ref: SchemaRef, name: string): Verdict {
  return { kind: 'unknown', keyword: name, at: pointerTo(ref, name) };
}

/** Conjunction: one refusal decides; otherwise any doubt remains. Stops at the first refusal. */
function firstDecisive(verdicts: Iterable<Verdict>): Verdict {
  let doubt: Verdict | undefined;
  for (const verdict of verdicts) {
    if (verdict.kind === 'no') return verdict;
    if (verdict.kind === 'unknown') doubt ??= verdict;
  }
  return doubt ?? YES;
}

/** Is `value` valid under `ref`? "unknown" whenever a keyword is not understood. */
export function evaluate(
  ref: SchemaRef,
  value: unknown,
  walk: Walk = { depth: 0, budget: { remaining: EVALUATION_BUDGET } },
): Verdict {
  if (ref.schema === true) return YES;
  if (ref.schema === false) return refuse(ref, '');
  if (!asRecord(ref.schema) || walk.depth > MAX_EVALUATION_DEPTH || --walk.budget.remaining < 0 || !spend())
    return unsure(ref, '');
  if (hasKeyword(ref, '$ref')) return evaluateReference(ref, value, walk);
  return firstDecisive(keywordVerdicts(ref, value, walk));
}

function evaluateReference(ref: SchemaRef, value: unknown, walk: Walk): Verdict {
  const target = keyword(ref, '$ref');
  const resolved = typeof target === 'string' ? resolveRef(ref, target) : undefined;
  if (!resolved) return unsure(ref, '$ref');
  const viaTarget = evaluate(resolved, value, deeper(walk));
  const withSiblings = firstDecisive([viaTarget, evaluate(omitting(ref, '$ref'), value, deeper(walk))]);
  if (ref.doc.draft === 'modern') return withSiblings;
  // Before 2020-12 only an answer both readings of the siblings agree on counts.
  return viaTarget.kind === withSiblings.kind ? withSiblings : unsure(ref, '$ref');
}

function* keywordVerdicts(ref: SchemaRef, value: unknown, walk: Walk): Generator<Verdict> {
  yield typeVerdict(ref, value);
  yield enumVerdict(ref, value);
  // Formats are checked by the validator's own format library (for strings and numbers).
  if ((typeof value === 'string' || typeof value === 'number') && hasKeyword(ref, 'format'))
    yield unsure(ref, 'format');
  if (typeof value === 'number') yield* numberVerdicts(ref, value);
  else if (typeof value === 'string') yield* stringVerdicts(ref, value);
  else if (Array.isArray(value)) yield inBothReadings(ref, (side) => arrayVerdicts(ref, value, walk, side));
  else {
    const record = asRecord(value);
    if (record) yield inBothReadings(ref, (side) => objectVerdicts(ref, record, walk, side));
  }
  yield* compositionVerdicts(ref, value, walk);
  for (const name of ownKeys(ref)) {
    if (!KNOWN_KEYWORDS.has(name) && !isAnnotation(name)) yield unsure(ref, name);
  }
}

function typeVerdict(ref: SchemaRef, value: unknown): Verdict {
  const declared = keyword(ref, 'type');
  if (declared === undefined) return YES;
  const mask = parseTypes(declared);
  if (mask === undefined) return unsure(ref, 'type');
  if (typeOfValue(value) & mask) return YES;
  // OpenAPI's `nullable` widens the type only for validators that know it.
  if (value === null && keyword(ref, 'nullable') === true) return unsure(ref, 'nullable');
  return refuse(ref, 'type');
}

function enumVerdict(ref: SchemaRef, value: unknown): Verdict {
  const options = keyword(ref, 'enum');
  if (options !== undefined) {
    if (!Array.isArray(options)) return unsure(ref, 'enum');
    if (!options.some((option) => jsonEqual(option, value))) return refuse(ref, 'enum');
  }
  if (hasKeyword(ref, 'const') && !jsonEqual(keyword(ref, 'const'), value)) return refuse(ref, 'const');
  return YES;
}

function* numberVerdicts(ref: SchemaRef, n: number): Generator<Verdict> {
  for (const side of ['upper', 'lower'] as const) {
    const { bounds, doubts } = declaredBounds(ref, side);
    for (const doubt of doubts) yield unsure(ref, doubt.keyword);
    for (const bound of bounds) {
      const outside = side === 'upper' ? n > bound.value : n < bound.value;
      if (outside || (bound.exclusive && n === bound.value)) yield refuse(ref, bound.keyword);
    }
  }
  const divisor = keyword(ref, 'multipleOf');
  if (divisor !== undefined) {
    if (typeof divisor !== 'number' || divisor <= 0) yield unsure(ref, 'multipleOf');
    else if (!passesMultipleOf(n, divisor)) yield refuse(ref, 'multipleOf');
  }
}

function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

function* stringVerdicts(ref: SchemaRef, text: string): Generator<Verdict> {
  const length = codePointLength(text);
  const minLength = keyword(ref, 'minLength');
  if (minLength !== undefined) {
    if (!isNonNegativeInteger(minLength)) yield unsure(ref, 'minLength');
    else if (length < minLength) yield refuse(ref, 'minLength');
  }
  const maxLength = keyword(ref, 'maxLength');
  if (maxLength !== undefined) {
    if (!isNonNegativeInteger(maxLength)) yield unsure(ref, 'maxLength');
    else if (length > maxLength) yield refuse(ref, 'maxLength');
  }
  const pattern = keyword(ref, 'pattern');
  if (pattern !== undefined) {
    const regex = typeof pattern === 'string' ? compilePattern(pattern) : undefined;
    if (!regex) yield unsure(ref, 'pattern');
    else if (!regex.test(text)) yield refuse(ref, 'pattern');
  }
}

/**
 * Keywords whose meaning depends on the draft are read strictly (as on the sup side) and
 * leniently (as on the sub side): "yes" needs the strict reading, "no" the lenient one.
 */
function inBothReadings(ref: SchemaRef, group: (side: Side) => Iterable<Verdict>): Verdict {
  const strict = firstDecisive(group('sup'));
  if (strict.kind === 'yes' || !hasUncertainKeyword(ref)) return strict;
  const lenient = firstDecisive(group('sub'));
  if (lenient.kind === 'no') return lenient;
  return strict.kind === 'unknown' ? strict : unsure(ref, strict.keyword);
}

function* arrayVerdicts(ref: SchemaRef, items: readonly unknown[], walk: Walk, side: Side): Generator<Verdict> {
  const view = arrayView(ref, side);
  for (const doubt of view.doubts) yield unsure(ref, doubt.keyword);
  for (const [index, item] of items.entries()) {
    for (const schema of itemAt(view, index)) yield evaluate(schema, item, deeper(walk));
  }
  if (items.length < view.minItems) yield refuse(ref, 'minItems');
  if (view.maxItems !== undefined && items.length > view.maxItems) yield refuse(ref, 'maxItems');
  if (view.uniqueItems && items.some((a, i) => items.some((b, j) => j > i && jsonEqual(a, b))))
    yield refuse(ref, 'uniqueItems');
  if (view.contains && items.length === 0 && view.prefix.length > 0) {
    yield unsure(ref, 'contains'); // see containsMayPassEmpty
  } else if (view.contains) {
    let matched = 0;
    let undecided = 0;
    for (const item of items) {
      const verdict = evaluate(view.contains, item, deeper(walk));
      if (verdict.kind === 'yes') matched++;
      else if (verdict.kind === 'unknown') undecided++;
    }
    const max = view.maxContains ?? Number.POSITIVE_INFINITY;
    if (matched > max || matched + undecided < view.minContains) yield refuse(ref, 'contains');
    else if (matched < view.minContains || matched + undecided > max) yield unsure(ref, 'contains');
  }
}

function* objectVerdicts(ref: SchemaRef, object: Record<string, unknown>, walk: Walk, side: Side): Generator<Verdict> {
  const view = objectView(ref, side);
  for (const doubt of view.doubts) yield unsure(ref, doubt.keyword);
  const names = Object.keys(object);
  for (const name of names) {
    const schemas = valueRefs(view, name);
    if (!schemas) {
      yield unsure(ref, 'patternProperties');
      continue;
    }
    for (const schema of schemas) yield evaluate(schema, object[name], deeper(walk));
    if (view.propertyNames) yield evaluate(view.propertyNames, name, deeper(walk));
  }
  for (const name of view.required) if (!Object.hasOwn(object, name)) yield refuse(ref, 'required');
  if (names.length < view.minProperties) yield refuse(ref, 'minProperties');
  if (view.maxProperties !== undefined && names.length > view.maxProperties) yield refuse(ref, 'maxProperties');
  for (const [name, dependents] of view.dependentRequired) {
    if (Object.hasOwn(object, name) && dependents.some((d) => !Object.hasOwn(object, d)))
      yield refuse(ref, 'dependentRequired');
  }
  for (const [name, schemas] of view.dependentSchemas) {
    if (Object.hasOwn(object, name)) for (const schema of schemas) yield evaluate(schema, object, deeper(walk));
  }
}

function* compositionVerdicts(ref: SchemaRef, value: unknown, walk: Walk): Generator<Verdict> {
  for (const name of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = keyword(ref, name);
    if (branches === undefined) continue;
    if (!Array.isArray(branches)) {
      yield unsure(ref, name);
      continue;
    }
    const verdicts = branches.map((_, i) => evaluate(childRef(ref, name, i), value, deeper(walk)));
    yield combineBranches(ref, name, verdicts);
  }
  if (hasKeyword(ref, 'not')) {
    const inner = evaluate(childRef(ref, 'not'), value, deeper(walk));
    yield inner.kind === 'yes' ? refuse(ref, 'not') : inner.kind === 'no' ? YES : unsure(ref, 'not');
  }
  if (hasKeyword(ref, 'if')) yield conditionalVerdict(ref, value, walk);
}

function combineBranches(ref: SchemaRef, name: 'allOf' | 'anyOf' | 'oneOf', verdicts: readonly Verdict[]): Verdict {
  const yes = verdicts.filter((v) => v.kind === 'yes').length;
  const undecided = verdicts.filter((v) => v.kind === 'unknown').length;
  if (name === 'allOf') return firstDecisive(verdicts);
  if (name === 'anyOf') return yes > 0 ? YES : undecided > 0 ? unsure(ref, name) : refuse(ref, name);
  if (yes > 1 || (yes === 0 && undecided === 0)) return refuse(ref, name);
  return yes === 1 && undecided === 0 ? YES : unsure(ref, name);
}

function conditionalVerdict(ref: SchemaRef, value: unknown, walk: Walk): Verdict {
  const branch = (name: string): Verdict =>
    hasKeyword(ref, name) ? evaluate(childRef(ref, name), value, deeper(walk)) : YES;
  const condition = evaluate(childRef(ref, 'if'), value, deeper(walk));
  if (condition.kind === 'yes') return branch('then');
  if (condition.kind === 'no') return branch('else');
  const whenTrue = branch('then');
  const whenFalse = branch('else');
  return whenTrue.kind === whenFalse.kind && whenTrue.kind !== 'unknown' ? whenTrue : unsure(ref, 'if');
}
