/** Comparing the keywords that admit values whatever their type: `type`, `enum`, `const`. */

import { jsonEqual, typeWords } from './json.js';
import { type Pointers, report, showValue, where } from './findings.js';
import { hasKeyword, pointerTo, type SchemaRef } from './documents.js';
import { malformed } from './keyword-views.js';
import type { SubSet } from './decompose.js';
import { enumerated, enumSourcePath, finiteValues } from './sub-set-facts.js';
import { type Ctx, keywordPointers, reportDoubts } from './context.js';

export function compareTypes(set: SubSet, c: SchemaRef, subMask: number, supMask: number, ctx: Ctx): void {
  const extra = subMask & ~supMask;
  if (extra === 0) return;
  reportTypeLoss(ctx, keywordPointers(set, c, 'type'), extra);
}

export function reportTypeLoss(ctx: Ctx, at: Pointers, extra: number): void {
  const { names, nouns } = typeWords(extra);
  report(ctx, at, {
    rule: 'type-narrowed',
    inverse: 'type-widened',
    change: { narrow: `no longer accepts ${names.join(', ')}`, widen: `now also accepts ${names.join(', ')}` },
    witness: where(ctx.data, `is ${nouns.join(' or ')}`),
  });
}

export function compareEnum(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const allowed = enumerated(c);
  if (!allowed) {
    if (hasKeyword(c, 'enum')) reportDoubts(set, c, [malformed('enum')], ctx);
    return;
  }
  const name = hasKeyword(c, 'const') ? 'const' : 'enum';
  const values = finiteValues(set);
  if (values) {
    const lost = values.filter((v) => !allowed.some((a) => jsonEqual(a, v)));
    if (lost.length > 0) reportRefusedValues(set, name, pointerTo(c, name), lost, ctx);
    return;
  }
  const list = allowed.map(showValue).join(', ');
  report(ctx, keywordPointers(set, c, name), {
    rule: 'enum-added',
    inverse: 'enum-removed',
    change: { narrow: `is now restricted to ${list}`, widen: `is no longer restricted to ${list}` },
    witness: where(ctx.data, 'has any other value'),
  });
}

export function reportRefusedValues(
  set: SubSet,
  name: string,
  supPtr: string,
  lost: readonly unknown[],
  ctx: Ctx,
): void {
  const list = lost.map(showValue).join(', ');
  const [rule, inverse] =
    name === 'enum' || name === 'const'
      ? ['enum-narrowed', 'enum-widened']
      : name === 'type'
        ? ['type-narrowed', 'type-widened']
        : ['value-refused', 'value-accepted'];
  report(
    ctx,
    { sub: enumSourcePath(set), sup: supPtr },
    {
      rule,
      inverse,
      change: { narrow: `no longer accepts ${list}`, widen: `now also accepts ${list}` },
      witness: where(ctx.data, `is ${lost.map(showValue).join(' or ')}`),
    },
  );
}
