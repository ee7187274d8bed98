/** Comparing number and string keywords: bounds, `multipleOf`, lengths, `pattern`, `format`. */

import { isNonNegativeInteger, UNIVERSAL_PATTERNS } from './json.js';
import { plural, report, samePhrase, unprovenPhrase, where } from './findings.js';
import { keyword, pointerTo, type SchemaRef } from './documents.js';
import { type Bound, type BoundSide, boundWithin, declaredBounds, malformed } from './keyword-views.js';
import type { SubSet } from './decompose.js';
import { subBound, subLengthRange } from './sub-set-facts.js';
import { type Ctx, keywordPointers, reportDoubts } from './context.js';
import { compareCount, type LimitKeyword, reportLimit } from './compare-limits.js';

// --- numbers ----------------------------------------------------------------------------------

function showBound(bound: Bound): string {
  return bound.exclusive ? `${bound.value} (exclusive)` : String(bound.value);
}

export function compareNumbers(set: SubSet, c: SchemaRef, integersOnly: boolean, ctx: Ctx): void {
  for (const side of ['upper', 'lower'] as const) {
    const { bounds, doubts } = declaredBounds(c, side);
    reportDoubts(set, c, doubts, ctx);
    const own = subBound(set, side, integersOnly);
    for (const bound of bounds) if (!boundWithin(own, bound, side)) reportBound(set, c, own, bound, side, ctx);
  }
  compareMultipleOf(set, c, integersOnly, ctx);
}

function reportBound(set: SubSet, c: SchemaRef, own: Bound | undefined, bound: Bound, side: BoundSide, ctx: Ctx): void {
  const at = {
    sub: own ? pointerTo(own.ref, own.keyword) : `${set.path}/${bound.keyword}`,
    sup: pointerTo(c, bound.keyword),
  };
  const outside =
    side === 'upper'
      ? bound.exclusive
        ? `is ${bound.value} or more`
        : `is above ${bound.value}`
      : bound.exclusive
        ? `is ${bound.value} or less`
        : `is below ${bound.value}`;
  const limit = { name: side === 'upper' ? 'maximum' : 'minimum', side };
  reportLimit(ctx, at, limit, own && showBound(own), showBound(bound), outside);
}

function compareMultipleOf(set: SubSet, c: SchemaRef, integersOnly: boolean, ctx: Ctx): void {
  const divisor = keyword(c, 'multipleOf');
  if (divisor === undefined) return;
  if (typeof divisor !== 'number' || divisor <= 0) {
    reportDoubts(set, c, [malformed('multipleOf')], ctx);
    return;
  }
  const own = set.conj.map((r) => keyword(r, 'multipleOf')).filter((m): m is number => typeof m === 'number' && m > 0);
  if (own.includes(divisor)) return; // the very same computation on the very same values
  const safe = integersOnly && withinSafeIntegers(set);
  if (
    safe &&
    (divisor === 1 || (Number.isInteger(divisor) && own.some((m) => Number.isInteger(m) && m % divisor === 0)))
  )
    return;
  const at = keywordPointers(set, c, 'multipleOf');
  const witness = where(ctx.data, `is not a multiple of ${divisor}`);
  const [previous] = own;
  const mathematicallyFine = previous !== undefined && isExactMultiple(previous, divisor);
  if (previous === undefined) {
    report(ctx, at, {
      rule: 'multiple-of-added',
      inverse: 'multiple-of-removed',
      change: {
        narrow: `must now be a multiple of ${divisor}`,
        widen: `no longer needs to be a multiple of ${divisor}`,
      },
      witness,
      ...(integersOnly && divisor === 1 ? { unproven: samePhrase(FLOATING_MULTIPLE) } : {}),
    });
    return;
  }
  report(ctx, at, {
    rule: 'multiple-of-changed',
    inverse: 'multiple-of-changed',
    change: {
      narrow: `had its multipleOf changed from ${previous} to ${divisor}`,
      widen: `had its multipleOf changed from ${divisor} to ${previous}`,
    },
    witness,
    ...(mathematicallyFine ? { unproven: samePhrase(FLOATING_MULTIPLE) } : {}),
  });
}

const FLOATING_MULTIPLE =
  'cannot prove it: the validator computes multipleOf in floating point, so a new divisor is only proven for integers within ±2^53, with whole divisors where the new one divides the old one';

/** Integers within ±2^53 are exact in floating point, and their quotients print as integers. */
function withinSafeIntegers(set: SubSet): boolean {
  const upper = subBound(set, 'upper', true);
  const lower = subBound(set, 'lower', true);
  return !!upper && !!lower && upper.value <= Number.MAX_SAFE_INTEGER && lower.value >= -Number.MAX_SAFE_INTEGER;
}

/** Whether `value / divisor` is a whole number in exact decimal arithmetic (for messages only). */
function isExactMultiple(value: number, divisor: number): boolean {
  const scale = 10 ** Math.max(decimalPlaces(value), decimalPlaces(divisor));
  const a = Math.round(value * scale);
  const b = Math.round(divisor * scale);
  return Number.isSafeInteger(a) && Number.isSafeInteger(b) && b !== 0 && a % b === 0;
}

function decimalPlaces(n: number): number {
  const [mantissa = '', exponent = '0'] = n.toExponential().split('e');
  const fraction = mantissa.split('.')[1] ?? '';
  return Math.max(0, fraction.length - Number(exponent));
}

// --- strings ----------------------------------------------------------------------------------

export function compareStrings(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const own = subLengthRange(set);
  compareLength(set, c, { name: 'minLength', side: 'lower' }, own.min, 'is shorter than', ctx);
  compareLength(set, c, { name: 'maxLength', side: 'upper' }, own.max, 'is longer than', ctx);
  comparePattern(set, c, ctx);
}

function compareLength(
  set: SubSet,
  c: SchemaRef,
  limit: LimitKeyword,
  own: number | undefined,
  outside: string,
  ctx: Ctx,
): void {
  const length = keyword(c, limit.name);
  if (length === undefined) return;
  if (!isNonNegativeInteger(length)) {
    reportDoubts(set, c, [malformed(limit.name)], ctx);
    return;
  }
  compareCount(
    ctx,
    keywordPointers(set, c, limit.name),
    limit,
    own,
    length,
    `${outside} ${plural(length, 'character')}`,
  );
}

function comparePattern(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const pattern = keyword(c, 'pattern');
  if (pattern === undefined) return;
  if (typeof pattern !== 'string') {
    reportDoubts(set, c, [malformed('pattern')], ctx);
    return;
  }
  const own = set.conj.map((r) => keyword(r, 'pattern')).filter((p): p is string => typeof p === 'string');
  if (UNIVERSAL_PATTERNS.has(pattern) || own.includes(pattern)) return;
  const at = keywordPointers(set, c, 'pattern');
  const [previous] = own;
  if (previous === undefined) {
    report(ctx, at, {
      rule: 'pattern-added',
      inverse: 'pattern-removed',
      change: {
        narrow: `must now match the pattern "${pattern}"`,
        widen: `no longer needs to match the pattern "${pattern}"`,
      },
      witness: where(ctx.data, `does not match "${pattern}"`),
    });
    return;
  }
  // Inclusion between regular expressions is not decided here: any difference is unproven.
  report(ctx, at, {
    rule: 'pattern-changed',
    inverse: 'pattern-changed',
    change: {
      narrow: `had its pattern changed from "${previous}" to "${pattern}"`,
      widen: `had its pattern changed from "${pattern}" to "${previous}"`,
    },
    unproven: unprovenPhrase(
      (sub, sup) => `cannot prove that every string matching the ${sub} pattern also matches the ${sup} one`,
    ),
  });
}

export function compareFormat(set: SubSet, c: SchemaRef, ctx: Ctx): void {
  const format = keyword(c, 'format');
  if (format === undefined) return;
  if (typeof format !== 'string') {
    reportDoubts(set, c, [malformed('format')], ctx);
    return;
  }
  const own = set.conj.map((r) => keyword(r, 'format')).filter((f): f is string => typeof f === 'string');
  if (own.includes(format)) return;
  const at = keywordPointers(set, c, 'format');
  const [previous] = own;
  if (previous === undefined) {
    report(ctx, at, {
      rule: 'format-added',
      inverse: 'format-removed',
      change: { narrow: `must now be a valid "${format}"`, widen: `no longer needs to be a valid "${format}"` },
      witness: where(ctx.data, `is not a valid "${format}"`),
    });
    return;
  }
  report(ctx, at, {
    rule: 'format-changed',
    inverse: 'format-changed',
    change: {
      narrow: `had its format changed from "${previous}" to "${format}"`,
      widen: `had its format changed from "${format}" to "${previous}"`,
    },
    unproven: unprovenPhrase(
      (sub, sup) => `cannot prove that every string in the ${sub} format is valid in the ${sup} one`,
    ),
  });
}
