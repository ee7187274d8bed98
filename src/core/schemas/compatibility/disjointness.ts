/** Disjointness of sub sets (for `oneOf`, `not`, `if`/`then`/`else`): true only when no instance can be in both. */

import { FRACTION, NUMBER, OBJECT, spend, STRING, typeOfValue } from './json.js';
import type { SchemaRef } from './documents.js';
import { evaluate } from './evaluate.js';
import { type SubSet, subSets } from './decompose.js';
import {
  finiteValues,
  isProvablyEmpty,
  objectViews,
  requiredNames,
  subBound,
  subLengthRange,
  subTypes,
  subValueRefs,
} from './sub-set-facts.js';
import { type Ctx, trial } from './context.js';

const DISJOINT_DEPTH = 6;

export function disjointFromRef(set: SubSet, ref: SchemaRef, ctx: Ctx): boolean {
  return subSets([ref], { path: ref.path, doc: ref.doc }).every((other) => disjoint(set, other, ctx, 0));
}

export function refsDisjoint(a: SchemaRef, b: SchemaRef, ctx: Ctx): boolean {
  const left = subSets([a], { path: a.path, doc: a.doc });
  return left.every((set) => disjointFromRef(set, b, ctx));
}

/** Sound: true only when no instance can be in both sets. */
function disjoint(a: SubSet, b: SubSet, ctx: Ctx, depth: number): boolean {
  if (depth > DISJOINT_DEPTH || !spend()) return false;
  const common = subTypes(a) & subTypes(b);
  if (common === 0) return true;
  if (valuesRefused(a, b) || valuesRefused(b, a)) return true;
  if (negationExcludes(a, b, ctx) || negationExcludes(b, a, ctx)) return true;
  if ((common & ~OBJECT) === 0 && objectsDisjoint(a, b, ctx, depth)) return true;
  if ((common & ~NUMBER) === 0 && rangesDisjoint(a, b, (common & FRACTION) === 0)) return true;
  if ((common & ~STRING) === 0 && lengthsDisjoint(a, b)) return true;
  return false;
}

function valuesRefused(finite: SubSet, other: SubSet): boolean {
  const values = finiteValues(finite);
  return (
    values !== undefined &&
    values.every(
      (value) =>
        !(typeOfValue(value) & subTypes(other)) ||
        other.conj.some((ref) => evaluate(ref, value).kind === 'no') ||
        other.nots.some((ref) => evaluate(ref, value).kind === 'yes'),
    )
  );
}

function negationExcludes(withNots: SubSet, other: SubSet, ctx: Ctx): boolean {
  return withNots.nots.some((excluded) => trial(other, excluded, ctx).length === 0);
}

/** A shared required property whose values cannot agree, e.g. a `kind` discriminator. */
function objectsDisjoint(a: SubSet, b: SubSet, ctx: Ctx, depth: number): boolean {
  const viewsA = objectViews(a);
  const viewsB = objectViews(b);
  const requiredA = requiredNames(viewsA);
  const requiredB = requiredNames(viewsB);
  for (const name of new Set([...requiredA, ...requiredB])) {
    const valuesA = subValueRefs(viewsA, name);
    const valuesB = subValueRefs(viewsB, name);
    if (requiredA.has(name) && isProvablyEmpty(valuesB)) return true;
    if (requiredB.has(name) && isProvablyEmpty(valuesA)) return true;
    if (!requiredA.has(name) || !requiredB.has(name)) continue;
    const setsA = subSets(valuesA, { path: a.path, doc: a.doc });
    const setsB = subSets(valuesB, { path: b.path, doc: b.doc });
    if (setsA.every((x) => setsB.every((y) => disjoint(x, y, ctx, depth + 1)))) return true;
  }
  return false;
}

function rangesDisjoint(a: SubSet, b: SubSet, integersOnly: boolean): boolean {
  const below = (low: SubSet, high: SubSet): boolean => {
    const upper = subBound(low, 'upper', integersOnly);
    const lower = subBound(high, 'lower', integersOnly);
    if (!upper || !lower) return false;
    return upper.value < lower.value || (upper.value === lower.value && (upper.exclusive || lower.exclusive));
  };
  return below(a, b) || below(b, a);
}

function lengthsDisjoint(a: SubSet, b: SubSet): boolean {
  const ra = subLengthRange(a);
  const rb = subLengthRange(b);
  return (ra.max !== undefined && ra.max < rb.min) || (rb.max !== undefined && rb.max < ra.min);
}
