/**
 * One comparator for every min/max keyword pair (`maximum`, `minLength`, `maxItems`, ...): a
 * limit on the sup side holds when the sub side's own limit lies within it; otherwise it is
 * reported as added, or as raised or lowered from the sub side's limit.
 */

import { type Pointers, report, type Trail, where } from './findings.js';
import { boundWithin, type BoundSide } from './keyword-views.js';

/** A limit keyword by name, and the end of the range it bounds. */
export interface LimitKeyword {
  readonly name: string;
  readonly side: BoundSide;
}

/**
 * Reports the sup-side limit `sup` the sub side does not keep within; `own` is the sub side's
 * limit, undefined when it has none. Both come printed; `outside` describes the data lost.
 */
export function reportLimit(
  ctx: Trail,
  at: Pointers,
  limit: LimitKeyword,
  own: string | undefined,
  sup: string,
  outside: string,
): void {
  // Rules are named after the keyword: maxLength gives max-length-added, max-length-lowered, ...
  const stem = limit.name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  const witness = where(ctx.data, outside);
  if (own === undefined) {
    report(ctx, at, {
      rule: `${stem}-added`,
      inverse: `${stem}-removed`,
      change: { narrow: `now has a ${limit.name} of ${sup}`, widen: `no longer has a ${limit.name} of ${sup}` },
      witness,
    });
    return;
  }
  const [tightened, loosened] = limit.side === 'upper' ? ['lowered', 'raised'] : ['raised', 'lowered'];
  report(ctx, at, {
    rule: `${stem}-${tightened}`,
    inverse: `${stem}-${loosened}`,
    change: {
      narrow: `had its ${limit.name} ${tightened} from ${own} to ${sup}`,
      widen: `had its ${limit.name} ${loosened} from ${sup} to ${own}`,
    },
    witness,
  });
}

/** Compares a count limit (`minLength`, `maxItems`, ...); an absent or infinite `own` is no limit. */
export function compareCount(
  ctx: Trail,
  at: Pointers,
  limit: LimitKeyword,
  own: number | undefined,
  sup: number,
  outside: string,
): void {
  const ownLimit = own === undefined || !Number.isFinite(own) ? undefined : { value: own, exclusive: false };
  if (boundWithin(ownLimit, { value: sup, exclusive: false }, limit.side)) return;
  reportLimit(ctx, at, limit, ownLimit && String(ownLimit.value), String(sup), outside);
}
