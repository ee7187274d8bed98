/**
 * What every keyword comparison shares: where it stands in the data, where its findings go,
 * and the way back into the subset walk for the subschemas it compares.
 */

import { type DataSeg, type Finding, type Pointers, reportUnproven, samePhrase, type Trail } from './findings.js';
import { escapePointer, pointerTo, type SchemaRef } from './documents.js';
import type { Doubt } from './keyword-views.js';
import type { Origin, SubSet } from './decompose.js';

/**
 * The subset walk's entry points. The keyword comparisons recurse through these, so that they
 * need not import the walk that dispatches to them.
 */
export interface Walker {
  subset(subRefs: readonly SchemaRef[], sup: SchemaRef, ctx: Ctx, origin: Origin): void;
  subsetOfSet(set: SubSet, sup: SchemaRef, ctx: Ctx): void;
}

export interface Shared {
  /** Comparisons currently open on the stack. */
  nesting: number;
  /** Pairs being compared on the current path, with the data depth they started at. */
  readonly active: Map<string, number>;
  readonly walker: Walker;
}

export interface Ctx extends Trail {
  readonly shared: Shared;
  /** How deep into the instance the walk is: recursion is assumed to hold only below its start. */
  readonly depth: number;
}

export function intoData(ctx: Ctx, seg: DataSeg): Ctx {
  return { ...ctx, data: [...ctx.data, seg], depth: ctx.depth + 1 };
}

function scratch(ctx: Ctx): Ctx {
  return { ...ctx, findings: [] };
}

/** Reports why the data of all `subRefs` together is not proven to be valid under `sup`. */
export function subset(subRefs: readonly SchemaRef[], sup: SchemaRef, ctx: Ctx, origin: Origin): void {
  ctx.shared.walker.subset(subRefs, sup, ctx, origin);
}

/** Reports why the data of one sub set is not proven to be valid under `sup`. */
export function subsetOfSet(set: SubSet, sup: SchemaRef, ctx: Ctx): void {
  ctx.shared.walker.subsetOfSet(set, sup, ctx);
}

export function trial(set: SubSet, sup: SchemaRef, ctx: Ctx): Finding[] {
  const probe = scratch(ctx);
  subsetOfSet(set, sup, probe);
  return probe.findings;
}

export function trialRefs(subRefs: readonly SchemaRef[], sup: SchemaRef, ctx: Ctx, origin: Origin): Finding[] {
  const probe = scratch(ctx);
  subset(subRefs, sup, probe, origin);
  return probe.findings;
}

export function keywordPointers(set: SubSet, c: SchemaRef, name: string): Pointers {
  return { sub: `${set.path}/${escapePointer(name)}`, sup: pointerTo(c, name) };
}

export function reportDoubts(set: SubSet, c: SchemaRef, doubts: readonly Doubt[], ctx: Ctx): void {
  for (const doubt of doubts) {
    reportUnproven(
      ctx,
      keywordPointers(set, c, doubt.keyword),
      samePhrase(`cannot prove compatibility: ${doubt.reason}`),
    );
  }
}
