/** Comparing the applicators left on the sup side after flattening: `anyOf`, `oneOf`, `not`, `if`. */

import { TYPE_GROUPS } from './json.js';
import { type Finding, reportUnproven, samePhrase, unprovenPhrase } from './findings.js';
import { childRef, hasKeyword, keyword, pointerTo, type SchemaRef } from './documents.js';
import { malformed } from './keyword-views.js';
import { type SubSet, subSets } from './decompose.js';
import { subTypes } from './sub-set-facts.js';
import { type Ctx, reportDoubts, subsetOfSet, trial, trialRefs } from './context.js';
import { reportTypeLoss } from './compare-values.js';
import { disjointFromRef, refsDisjoint } from './disjointness.js';

export function compareComposition(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  for (const name of ['anyOf', 'oneOf'] as const) {
    const branches = keyword(c, name);
    if (branches === undefined) continue;
    if (!Array.isArray(branches) || branches.length === 0) {
      reportDoubts(set, c, [malformed(name)], ctx);
      continue;
    }
    const refs = branches.map((_, i) => childRef(c, name, i));
    for (const piece of splitByType(set)) compareAlternatives(piece, c, name, refs, ctx);
  }
  if (hasKeyword(c, 'not')) compareNot(set, c, ctx);
  if (hasKeyword(c, 'if')) compareConditional(set, c, ctx);
}

/** One part per basic type, so that `["string","null"]` can match `anyOf: [{string}, {null}]`. */
function splitByType(set: SubSet): SubSet[] {
  const mask = subTypes(set);
  const groups = TYPE_GROUPS.filter((g) => (g & mask) !== 0);
  return groups.length <= 1 ? [set] : groups.map((g) => ({ ...set, typeMask: set.typeMask & g }));
}

function compareAlternatives(
  piece: SubSet,
  c: SchemaRef,
  name: 'anyOf' | 'oneOf',
  refs: readonly SchemaRef[],
  ctx: Ctx,
): void {
  const results = refs.map((ref) => trial(piece, ref, ctx));
  const chosen = results.findIndex((found) => found.length === 0);
  if (chosen < 0) {
    reportNoBranch(piece, c, name, refs, results, ctx);
    return;
  }
  if (name === 'anyOf') return;
  const chosenRef = refs[chosen];
  const overlapping = refs.findIndex(
    (ref, i) =>
      i !== chosen &&
      chosenRef !== undefined &&
      !disjointFromRef(piece, ref, ctx) &&
      !refsDisjoint(chosenRef, ref, ctx),
  );
  if (overlapping < 0) return;
  reportUnproven(
    ctx,
    { sub: piece.path, sup: pointerTo(c, name) },
    samePhrase(
      `cannot prove that data matches only one branch of "oneOf" (branches ${chosen} and ${overlapping} may overlap)`,
    ),
  );
}

function reportNoBranch(
  piece: SubSet,
  c: SchemaRef,
  name: string,
  refs: readonly SchemaRef[],
  results: readonly Finding[][],
  ctx: Ctx,
): void {
  const pieceTypes = subTypes(piece);
  const candidates = refs
    .map((ref, i) => ({ ref, found: results[i] ?? [], types: overApproximateTypes(ref) }))
    .filter((entry) => (entry.types & pieceTypes) !== 0);
  if (candidates.length === 0) {
    reportTypeLoss(ctx, { sub: `${piece.path}/type`, sup: pointerTo(c, name) }, pieceTypes);
    return;
  }
  // Prefer branches the data can reach (a discriminator rules the others out).
  const reachable = candidates.filter((entry) => !disjointFromRef(piece, entry.ref, ctx));
  const pool = reachable.length > 0 ? reachable : candidates;
  const best = pool.reduce((a, b) => (b.found.length < a.found.length ? b : a));
  ctx.findings.push(...best.found);
}

function overApproximateTypes(ref: SchemaRef): number {
  return subSets([ref], { path: ref.path, doc: ref.doc }).reduce((mask, set) => mask | subTypes(set), 0);
}

function compareNot(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const excluded = childRef(c, 'not');
  if (disjointFromRef(set, excluded, ctx)) return;
  // Complements reverse inclusion: if sup's excluded set lies inside sub's, sub avoids it too.
  const origin = { path: excluded.path, doc: excluded.doc };
  if (set.nots.some((own) => trialRefs([excluded], own, ctx, origin).length === 0)) return;
  reportUnproven(
    ctx,
    { sub: set.path, sup: excluded.path },
    unprovenPhrase(
      (sub, sup) => `cannot prove that no data valid under the ${sub} schema matches the ${sup} "not" schema`,
    ),
  );
}

function compareConditional(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const condition = childRef(c, 'if');
  const branch = (name: string): SchemaRef | undefined => (hasKeyword(c, name) ? childRef(c, name) : undefined);
  const whenTrue = branch('then');
  const whenFalse = branch('else');
  const holds = (target: SchemaRef | undefined): boolean => !target || trial(set, target, ctx).length === 0;
  if (holds(whenTrue) && holds(whenFalse)) return;
  if (trial(set, condition, ctx).length === 0) {
    if (whenTrue) subsetOfSet(set, whenTrue, ctx);
    return;
  }
  if (disjointFromRef(set, condition, ctx)) {
    if (whenFalse) subsetOfSet(set, whenFalse, ctx);
    return;
  }
  reportUnproven(
    ctx,
    { sub: set.path, sup: condition.path },
    samePhrase('cannot prove which branch of "if"/"then"/"else" applies'),
  );
}
