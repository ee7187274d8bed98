/**
 * Facts about one disjunct of the sub side: its types, its values when they are finitely many,
 * its numeric and length bounds, and its object keywords.
 */

import {
  ALL_TYPES,
  BOOLEAN,
  FRACTION,
  isNonNegativeInteger,
  jsonEqual,
  NULL,
  parseTypes,
  typeOfValue,
} from './json.js';
import { escapePointer, hasKeyword, keyword, pointerTo, type SchemaRef, SYNTHETIC_DOC } from './documents.js';
import {
  type Bound,
  type BoundSide,
  declaredBounds,
  type ObjectView,
  objectView,
  type Side,
  tighter,
  valueRefs,
} from './keyword-views.js';
import { evaluate } from './evaluate.js';
import { type SubSet, subSets } from './decompose.js';

const typeCache = new WeakMap<SubSet, number>();

export function declaredTypes(ref: SchemaRef, side: Side): number | undefined {
  const declared = keyword(ref, 'type');
  if (declared === undefined) return ALL_TYPES;
  const mask = parseTypes(declared);
  if (mask === undefined) return undefined;
  // `nullable: true` may widen the type; only the sub side may assume it does.
  return side === 'sub' && keyword(ref, 'nullable') === true ? mask | NULL : mask;
}

export function enumerated(ref: SchemaRef): unknown[] | undefined {
  if (hasKeyword(ref, 'const')) return [keyword(ref, 'const')];
  const options = keyword(ref, 'enum');
  return Array.isArray(options) ? options : undefined;
}

/** `multipleOf: 1` rules out fractions; larger divisors do not (see passesMultipleOf). */
function demandsInteger(ref: SchemaRef): boolean {
  return keyword(ref, 'multipleOf') === 1;
}

export function subTypes(set: SubSet): number {
  const cached = typeCache.get(set);
  if (cached !== undefined) return cached;
  let mask = set.typeMask;
  for (const ref of set.conj) mask &= declaredTypes(ref, 'sub') ?? ALL_TYPES;
  if (mask & FRACTION && set.conj.some(demandsInteger)) mask &= ~FRACTION;
  for (const ref of set.conj) {
    const values = enumerated(ref);
    if (values) {
      const valueTypes = values.reduce<number>((acc, v) => acc | typeOfValue(v), 0);
      mask &= keyword(ref, 'nullable') === true ? valueTypes | NULL : valueTypes;
    }
  }
  typeCache.set(set, mask);
  return mask;
}

/** Every value of the set, when the set is finite and known (enum, const, null/boolean types). */
export function finiteValues(set: SubSet): unknown[] | undefined {
  const types = subTypes(set);
  const source = set.conj.map(enumerated).find((values) => values !== undefined);
  let candidates: unknown[];
  if (source) {
    candidates = [...source];
    if (set.conj.some((ref) => keyword(ref, 'nullable') === true)) candidates.push(null);
  } else if ((types & ~(NULL | BOOLEAN)) === 0) {
    candidates = [null, true, false];
  } else {
    return undefined;
  }
  const kept: unknown[] = [];
  for (const value of candidates) {
    if (!(typeOfValue(value) & types)) continue;
    if (set.conj.some((ref) => evaluate(ref, value).kind === 'no')) continue;
    if (set.nots.some((ref) => evaluate(ref, value).kind === 'yes')) continue;
    if (!kept.some((k) => jsonEqual(k, value))) kept.push(value);
  }
  return kept;
}

export function enumSourcePath(set: SubSet): string {
  const holder = set.conj.find((ref) => enumerated(ref) !== undefined);
  if (!holder) return `${set.path}/type`;
  return pointerTo(holder, hasKeyword(holder, 'const') ? 'const' : 'enum');
}

export function isEmptySet(set: SubSet): boolean {
  if (subTypes(set) === 0) return true;
  const values = finiteValues(set);
  return values !== undefined && values.length === 0;
}

/** Sound emptiness: true only when no instance can satisfy all of `refs`. */
export function isProvablyEmpty(refs: readonly SchemaRef[]): boolean {
  return subSets(refs, { path: '', doc: SYNTHETIC_DOC }).every(isEmptySet);
}

export function subBound(set: SubSet, side: BoundSide, integersOnly: boolean): Bound | undefined {
  let best: Bound | undefined;
  for (const ref of set.conj) {
    for (const bound of declaredBounds(ref, side).bounds) best = best ? tighter(best, bound, side) : bound;
  }
  if (!best || !integersOnly) return best;
  // For integers an exclusive 10 is an inclusive 9, and 9.5 is 9.
  const value =
    side === 'upper'
      ? best.exclusive
        ? Math.ceil(best.value) - 1
        : Math.floor(best.value)
      : best.exclusive
        ? Math.floor(best.value) + 1
        : Math.ceil(best.value);
  return { ...best, value, exclusive: false };
}

export function subLengthRange(set: SubSet): { min: number; max: number | undefined } {
  let min = 0;
  let max: number | undefined;
  for (const ref of set.conj) {
    const low = keyword(ref, 'minLength');
    const high = keyword(ref, 'maxLength');
    if (isNonNegativeInteger(low)) min = Math.max(min, low);
    if (isNonNegativeInteger(high)) max = max === undefined ? high : Math.min(max, high);
  }
  return { min, max };
}

export function objectViews(set: SubSet): ObjectView[] {
  const views = set.conj.map((ref) => objectView(ref, 'sub'));
  return views.length > 0 ? views : [objectView({ schema: {}, doc: set.doc, path: set.path }, 'sub')];
}

/** Names every instance has: `required`, closed under the sub side's `dependentRequired`. */
export function requiredNames(views: readonly ObjectView[]): Set<string> {
  const names = new Set(views.flatMap((v) => [...v.required]));
  let grew = true;
  while (grew) {
    grew = false;
    for (const view of views) {
      for (const [trigger, dependents] of view.dependentRequired) {
        if (!names.has(trigger)) continue;
        for (const d of dependents) {
          if (!names.has(d)) {
            names.add(d);
            grew = true;
          }
        }
      }
    }
  }
  return names;
}

/** Over the sub side, a pattern that cannot be compiled just contributes nothing (a larger set). */
export function subValueRefs(views: readonly ObjectView[], name: string): SchemaRef[] {
  return views.flatMap((view) => valueRefs(view, name) ?? []);
}

export function subPropertyPath(views: readonly ObjectView[], set: SubSet, name: string): string {
  const declared = views.map((v) => v.properties.get(name)).find((r) => r !== undefined);
  return declared?.path ?? `${set.path}/properties/${escapePointer(name)}`;
}
