/**
 * Keywords read together, as the evaluator and the comparison both need them: numeric bounds,
 * the draft-dependent meaning of keywords, and array and object keywords as one view each.
 */

import type { LinearRegex } from '../../../mapping/linear-regex.js';
import { asRecord, compilePattern, isNonNegativeInteger } from './json.js';
import {
  childRef,
  type Draft,
  hasInPlaceApplicators,
  hasKeyword,
  keyword,
  ownKeys,
  refKey,
  type SchemaRef,
} from './documents.js';

/** Which schema a keyword is read for: the sub side (whose data must fit) or the sup side. */
export type Side = 'sub' | 'sup';

/** A keyword this module cannot pin down here; the sup side reports it, the sub side ignores it. */
export interface Doubt {
  readonly keyword: string;
  readonly reason: string;
}

export function malformed(name: string): Doubt {
  return { keyword: name, reason: `"${name}" has a value this checker does not understand` };
}

/** One end of a range of numbers (or of counts, which are never exclusive). */
export interface Limit {
  readonly value: number;
  readonly exclusive: boolean;
}

/** A limit declared by a number keyword, with where it was declared. */
export interface Bound extends Limit {
  readonly keyword: string;
  readonly ref: SchemaRef;
}

export type BoundSide = 'upper' | 'lower';

/** `maximum`/`exclusiveMaximum` (or the minimums) in both draft-04 (boolean) and later (numeric) styles. */
export function declaredBounds(ref: SchemaRef, side: BoundSide): { bounds: Bound[]; doubts: Doubt[] } {
  const [inclusiveName, exclusiveName] =
    side === 'upper' ? ['maximum', 'exclusiveMaximum'] : ['minimum', 'exclusiveMinimum'];
  const inclusive = keyword(ref, inclusiveName);
  const exclusive = keyword(ref, exclusiveName);
  const bounds: Bound[] = [];
  const doubts: Doubt[] = [];
  if (inclusive !== undefined) {
    if (typeof inclusive === 'number')
      bounds.push({ value: inclusive, exclusive: exclusive === true, keyword: inclusiveName, ref });
    else doubts.push(malformed(inclusiveName));
  }
  if (exclusive !== undefined && typeof exclusive !== 'boolean') {
    if (typeof exclusive === 'number') bounds.push({ value: exclusive, exclusive: true, keyword: exclusiveName, ref });
    else doubts.push(malformed(exclusiveName));
  }
  return { bounds, doubts };
}

export function tighter(a: Bound, b: Bound, side: BoundSide): Bound {
  if (a.value === b.value) return a.exclusive ? a : b;
  return (side === 'upper') === a.value < b.value ? a : b;
}

/** Every number inside the `sub` limit is also inside the `sup` limit; no `sub` limit is none. */
export function boundWithin(sub: Limit | undefined, sup: Limit, side: BoundSide): boolean {
  if (!sub) return false;
  if (sub.value === sup.value) return !sup.exclusive || sub.exclusive;
  return side === 'upper' ? sub.value < sup.value : sub.value > sup.value;
}

/**
 * Keywords whose meaning depends on the draft. Ajv, like the drafts, ignores a keyword outside
 * the draft's vocabulary; Ajv's 2020-12 mode also keeps draft-07's `dependencies`.
 */
const LEGACY_IGNORES = new Set([
  'prefixItems',
  'dependentRequired',
  'dependentSchemas',
  'minContains',
  'maxContains',
  'unevaluatedProperties',
  'unevaluatedItems',
]);
const MODERN_IGNORES = new Set(['additionalItems']);
const DRAFT_DEPENDENT = new Set([...LEGACY_IGNORES, ...MODERN_IGNORES, 'dependencies', 'items']);

type KeywordStatus = 'on' | 'off' | 'uncertain';

function keywordStatus(draft: Draft, name: string): KeywordStatus {
  if (draft === 'legacy') return LEGACY_IGNORES.has(name) ? 'off' : 'on';
  if (draft === 'modern') return MODERN_IGNORES.has(name) ? 'off' : name === 'dependencies' ? 'uncertain' : 'on';
  return DRAFT_DEPENDENT.has(name) ? 'uncertain' : 'on';
}

/** Does `name` constrain here? An uncertain keyword binds only the sup side (the safe reading). */
function counts(ref: SchemaRef, name: string, side: Side): boolean {
  const status = keywordStatus(ref.doc.draft, name);
  return status === 'on' || (status === 'uncertain' && side === 'sup');
}

/** Whether some keyword of `ref` means different things in different readings. */
export function hasUncertainKeyword(ref: SchemaRef): boolean {
  return ownKeys(ref).some((name) => keywordStatus(ref.doc.draft, name) === 'uncertain');
}

type Reading = 'modern' | 'legacy';

function readingsOf(draft: Draft): Reading[] {
  return draft === 'unknown' ? ['modern', 'legacy'] : [draft];
}

/** Positional item schemas: each position (and the rest) is a conjunction of schemas. */
interface ItemLayout {
  readonly prefix: readonly (readonly SchemaRef[])[];
  readonly rest: readonly SchemaRef[];
  readonly doubts: readonly Doubt[];
}

/** 2020-12 `prefixItems` + `items`, or draft-07 tuple `items` + `additionalItems`, in one reading. */
function layoutIn(ref: SchemaRef, reading: Reading): ItemLayout {
  const items = keyword(ref, 'items');
  const doubts: Doubt[] = [];
  let prefix: SchemaRef[][] = [];
  let rest: SchemaRef[] = [];
  if (reading === 'modern') {
    const prefixItems = keyword(ref, 'prefixItems');
    if (Array.isArray(prefixItems)) prefix = prefixItems.map((_, i) => [childRef(ref, 'prefixItems', i)]);
    else if (prefixItems !== undefined) doubts.push(malformed('prefixItems'));
    if (Array.isArray(items)) doubts.push({ keyword: 'items', reason: '"items" as an array is not 2020-12' });
    else if (items !== undefined) rest = [childRef(ref, 'items')];
    const unevaluated = keyword(ref, 'unevaluatedItems');
    if (unevaluated !== undefined && unevaluated !== true) {
      if (hasInPlaceApplicators(ref))
        doubts.push({
          keyword: 'unevaluatedItems',
          reason: '"unevaluatedItems" next to in-place applicators is not analysed',
        });
      else if (rest.length === 0) rest = [childRef(ref, 'unevaluatedItems')];
    }
  } else if (Array.isArray(items)) {
    prefix = items.map((_, i) => [childRef(ref, 'items', i)]);
    if (hasKeyword(ref, 'additionalItems')) rest = [childRef(ref, 'additionalItems')];
  } else if (items !== undefined) {
    rest = [childRef(ref, 'items')];
  }
  return { prefix, rest, doubts };
}

function itemLayout(ref: SchemaRef, side: Side): ItemLayout {
  const layouts = readingsOf(ref.doc.draft).map((reading) => layoutIn(ref, reading));
  const [first] = layouts;
  if (!first || layouts.length === 1) return first ?? { prefix: [], rest: [], doubts: [] };
  const positions = Math.max(...layouts.map((l) => l.prefix.length));
  // sup: every reading's constraints at once; sub: only what all readings agree on.
  const combine = (lists: (readonly SchemaRef[])[]): SchemaRef[] =>
    side === 'sup'
      ? lists.flat()
      : lists.every((l) => l.map(refKey).join('&') === (lists[0] ?? []).map(refKey).join('&'))
        ? [...(lists[0] ?? [])]
        : [];
  return {
    prefix: Array.from({ length: positions }, (_, i) => combine(layouts.map((l) => itemAt(l, i)))),
    rest: combine(layouts.map((l) => l.rest)),
    doubts: side === 'sup' ? layouts.flatMap((l) => l.doubts) : [],
  };
}

export function itemAt(layout: ItemLayout, index: number): readonly SchemaRef[] {
  return index < layout.prefix.length ? (layout.prefix[index] ?? []) : layout.rest;
}

export interface ArrayView extends ItemLayout {
  readonly ref: SchemaRef;
  readonly minItems: number;
  readonly maxItems: number | undefined;
  readonly uniqueItems: boolean;
  readonly contains: SchemaRef | undefined;
  readonly minContains: number;
  readonly maxContains: number | undefined;
}

/**
 * Ajv 8 skips `contains` on an empty array when tuple-form items (`prefixItems`, or `items` as
 * an array) come with it, so such a schema accepts `[]` although the specification refuses it.
 * Proofs must hold for what the validator really accepts.
 */
export function containsMayPassEmpty(view: ArrayView): boolean {
  return view.prefix.length > 0;
}

/** a count keyword (`minItems`, `maxProperties`, ...); a malformed one is a doubt, read as absent */
function countKeyword(ref: SchemaRef, name: string, doubts: Doubt[]): number | undefined {
  const value = keyword(ref, name);
  if (value === undefined) return undefined;
  if (isNonNegativeInteger(value)) return value;
  doubts.push(malformed(name));
  return undefined;
}

export function arrayView(ref: SchemaRef, side: Side): ArrayView {
  const layout = itemLayout(ref, side);
  const doubts = [...layout.doubts];
  const count = (name: string): number | undefined => countKeyword(ref, name, doubts);
  const contains = hasKeyword(ref, 'contains') ? childRef(ref, 'contains') : undefined;
  const uniqueItems = keyword(ref, 'uniqueItems');
  if (uniqueItems !== undefined && typeof uniqueItems !== 'boolean') doubts.push(malformed('uniqueItems'));
  // minContains defaults to 1 and is 1 where the draft ignores it; when unsure, sub takes the
  // weaker demand and sup the stronger one.
  const declaredMin = count('minContains') ?? 1;
  const minStatus = keywordStatus(ref.doc.draft, 'minContains');
  const minContains =
    minStatus === 'on'
      ? declaredMin
      : minStatus === 'off'
        ? 1
        : side === 'sup'
          ? Math.max(declaredMin, 1)
          : Math.min(declaredMin, 1);
  return {
    ...layout,
    ref,
    doubts,
    minItems: count('minItems') ?? 0,
    maxItems: count('maxItems'),
    uniqueItems: uniqueItems === true,
    contains,
    minContains,
    maxContains: counts(ref, 'maxContains', side) ? count('maxContains') : undefined,
  };
}

interface PatternEntry {
  readonly source: string;
  readonly regex: LinearRegex | undefined;
  readonly ref: SchemaRef;
}

export interface ObjectView {
  readonly ref: SchemaRef;
  readonly properties: ReadonlyMap<string, SchemaRef>;
  readonly patterns: readonly PatternEntry[];
  readonly additional: SchemaRef | undefined;
  readonly required: ReadonlySet<string>;
  readonly minProperties: number;
  readonly maxProperties: number | undefined;
  readonly propertyNames: SchemaRef | undefined;
  readonly dependentRequired: ReadonlyMap<string, readonly string[]>;
  readonly dependentSchemas: ReadonlyMap<string, readonly SchemaRef[]>;
  readonly doubts: readonly Doubt[];
}

export function objectView(ref: SchemaRef, side: Side): ObjectView {
  const doubts: Doubt[] = [];
  const recordOf = (name: string): Record<string, unknown> | undefined => {
    if (!counts(ref, name, side)) return undefined;
    const value = keyword(ref, name);
    if (value === undefined) return undefined;
    const record = asRecord(value);
    if (!record) doubts.push(malformed(name));
    return record;
  };
  const properties = new Map<string, SchemaRef>();
  for (const name of Object.keys(recordOf('properties') ?? {})) properties.set(name, childRef(ref, 'properties', name));
  const patterns = Object.keys(recordOf('patternProperties') ?? {}).map((source) => ({
    source,
    regex: compilePattern(source),
    ref: childRef(ref, 'patternProperties', source),
  }));
  let additional = hasKeyword(ref, 'additionalProperties') ? childRef(ref, 'additionalProperties') : undefined;
  const unevaluated = counts(ref, 'unevaluatedProperties', side) ? keyword(ref, 'unevaluatedProperties') : undefined;
  if (unevaluated !== undefined && unevaluated !== true) {
    if (hasInPlaceApplicators(ref)) {
      doubts.push({
        keyword: 'unevaluatedProperties',
        reason: '"unevaluatedProperties" next to in-place applicators is not analysed',
      });
    } else {
      // Without applicators nearby, it sees exactly what additionalProperties would see.
      additional ??= childRef(ref, 'unevaluatedProperties');
    }
  }
  const requiredValue = keyword(ref, 'required');
  const required = new Set<string>();
  if (Array.isArray(requiredValue) && requiredValue.every((r) => typeof r === 'string'))
    for (const r of requiredValue) required.add(r);
  else if (requiredValue !== undefined) doubts.push(malformed('required'));
  const count = (name: string): number | undefined => countKeyword(ref, name, doubts);
  const dependentRequired = new Map<string, string[]>();
  const dependentSchemas = new Map<string, SchemaRef[]>();
  const addRequired = (name: string, list: unknown, source: string): void => {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      doubts.push(malformed(source));
      return;
    }
    dependentRequired.set(name, [...(dependentRequired.get(name) ?? []), ...list]);
  };
  const addSchema = (name: string, source: string): void => {
    dependentSchemas.set(name, [...(dependentSchemas.get(name) ?? []), childRef(ref, source, name)]);
  };
  for (const [name, list] of Object.entries(recordOf('dependentRequired') ?? {}))
    addRequired(name, list, 'dependentRequired');
  for (const name of Object.keys(recordOf('dependentSchemas') ?? {})) addSchema(name, 'dependentSchemas');
  // draft-07 `dependencies`: an array is dependentRequired, a schema is dependentSchemas.
  for (const [name, value] of Object.entries(recordOf('dependencies') ?? {})) {
    if (Array.isArray(value)) addRequired(name, value, 'dependencies');
    else addSchema(name, 'dependencies');
  }
  return {
    ref,
    properties,
    patterns,
    additional,
    required,
    minProperties: count('minProperties') ?? 0,
    maxProperties: count('maxProperties'),
    propertyNames: hasKeyword(ref, 'propertyNames') ? childRef(ref, 'propertyNames') : undefined,
    dependentRequired,
    dependentSchemas,
    doubts,
  };
}

/** The schemas a property called `name` must satisfy; undefined when a pattern cannot be compiled. */
export function valueRefs(view: ObjectView, name: string): SchemaRef[] | undefined {
  const out: SchemaRef[] = [];
  const declared = view.properties.get(name);
  if (declared) out.push(declared);
  for (const pattern of view.patterns) {
    if (!pattern.regex) return undefined;
    if (pattern.regex.test(name)) out.push(pattern.ref);
  }
  if (out.length === 0 && view.additional) out.push(view.additional);
  return out;
}
