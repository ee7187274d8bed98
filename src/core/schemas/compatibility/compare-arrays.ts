/** Comparing array keywords: items by position, item counts, `uniqueItems`, `contains`. */

import { plural, report, reportUnproven, samePhrase, unprovenPhrase, where } from './findings.js';
import { isTriviallyTrue, type SchemaRef } from './documents.js';
import { type ArrayView, arrayView, containsMayPassEmpty, itemAt } from './keyword-views.js';
import type { SubSet } from './decompose.js';
import { isProvablyEmpty } from './sub-set-facts.js';
import { type Ctx, intoData, keywordPointers, reportDoubts, subset, trialRefs } from './context.js';
import { compareCount } from './compare-limits.js';

export function compareArrays(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const views = set.conj.map((ref) => arrayView(ref, 'sub'));
  const sup = arrayView(c, 'sup');
  reportDoubts(set, c, sup.doubts, ctx);
  const minLength = Math.max(0, ...views.map((v) => v.minItems));
  const maxLength = compareItems(set, views, sup, c, ctx);
  compareCount(
    ctx,
    keywordPointers(set, c, 'minItems'),
    { name: 'minItems', side: 'lower' },
    minLength,
    sup.minItems,
    `has fewer than ${plural(sup.minItems, 'item')}`,
  );
  if (sup.maxItems !== undefined) {
    compareCount(
      ctx,
      keywordPointers(set, c, 'maxItems'),
      { name: 'maxItems', side: 'upper' },
      maxLength,
      sup.maxItems,
      `has more than ${plural(sup.maxItems, 'item')}`,
    );
  }
  if (sup.uniqueItems && maxLength > 1 && !views.some((v) => v.uniqueItems)) {
    report(ctx, keywordPointers(set, c, 'uniqueItems'), {
      rule: 'unique-items-added',
      inverse: 'unique-items-removed',
      change: { narrow: 'now requires unique items', widen: 'no longer requires unique items' },
      witness: where(ctx.data, 'has duplicate items'),
    });
  }
  compareContains(set, views, sup, c, minLength, ctx);
}

/** Compares items position by position, then the rest; returns the longest array the sub side allows. */
function compareItems(set: SubSet, views: readonly ArrayView[], sup: ArrayView, c: SchemaRef, ctx: Ctx): number {
  const positions = Math.max(sup.prefix.length, ...views.map((v) => v.prefix.length));
  const maxLength = Math.min(
    Number.POSITIVE_INFINITY,
    ...views.flatMap((v) => (v.maxItems === undefined ? [] : [v.maxItems])),
  );
  for (let index = 0; index <= positions && index < maxLength; index++) {
    const isRest = index === positions;
    const own = views.flatMap((v) => itemAt(v, index));
    if (isProvablyEmpty(own)) return index;
    const targets = itemAt(sup, index).filter((t) => !isTriviallyTrue(t));
    const itemCtx = intoData(ctx, { kind: 'item', index: isRest ? undefined : index });
    const closed = targets.find((t) => t.schema === false);
    if (closed) {
      reportItemsClosed(set, c, closed, index, ctx);
      return index;
    }
    const origin = { path: own[0]?.path ?? `${set.path}/items`, doc: set.doc };
    for (const target of targets) subset(own, target, itemCtx, origin);
  }
  return maxLength;
}

function reportItemsClosed(set: SubSet, c: SchemaRef, target: SchemaRef, index: number, ctx: Ctx): void {
  report(
    ctx,
    { sub: `${set.path}${target.path.slice(c.path.length)}`, sup: target.path },
    {
      rule: 'items-closed',
      inverse: 'items-opened',
      change: {
        narrow: `no longer accepts more than ${plural(index, 'item')}`,
        widen: `now accepts more than ${plural(index, 'item')}`,
      },
      witness: where(ctx.data, `has more than ${plural(index, 'item')}`),
    },
  );
}

function compareContains(
  set: SubSet,
  views: readonly ArrayView[],
  sup: ArrayView,
  c: SchemaRef,
  minLength: number,
  ctx: Ctx,
): void {
  if (!sup.contains || (isTriviallyTrue(sup.contains) && sup.maxContains === undefined && minLength >= sup.minContains))
    return;
  const at = keywordPointers(set, c, 'contains');
  if (sup.maxContains !== undefined) {
    reportUnproven(ctx, at, samePhrase('cannot prove compatibility: "maxContains" is not analysed'));
    return;
  }
  if (sup.minContains === 0) return;
  const target = sup.contains;
  const origin = { path: set.path, doc: set.doc };
  const viaContains = views.some(
    (v) =>
      v.contains !== undefined &&
      v.minContains >= sup.minContains &&
      (minLength > 0 || !containsMayPassEmpty(v)) &&
      trialRefs([v.contains], target, ctx, origin).length === 0,
  );
  if (viaContains) return;
  // Or every item matches and there are enough of them.
  const positions = Math.max(0, ...views.map((v) => v.prefix.length));
  const everyItemMatches =
    minLength >= sup.minContains &&
    Array.from({ length: positions + 1 }, (_, i) => i).every((i) => {
      return (
        trialRefs(
          views.flatMap((v) => itemAt(v, i)),
          target,
          ctx,
          origin,
        ).length === 0
      );
    });
  if (everyItemMatches) return;
  if (views.some((v) => v.contains !== undefined)) {
    reportUnproven(
      ctx,
      at,
      unprovenPhrase(
        (sub, sup2) => `cannot prove that arrays valid under the ${sub} "contains" also satisfy the ${sup2} one`,
      ),
    );
    return;
  }
  report(ctx, at, {
    rule: 'contains-added',
    inverse: 'contains-removed',
    change: {
      narrow: 'now requires a matching item ("contains")',
      widen: 'no longer requires a matching item ("contains")',
    },
    witness: where(ctx.data, 'has no matching item'),
  });
}
