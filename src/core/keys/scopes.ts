/**
 * Scopes say what a key may do. `admin` may do everything; the others apply to the streams
 * whose names match a pattern, where `*` matches any run of characters:
 *   produce:<pattern>  write events
 *   consume:<pattern>  read events, consumers, live subscriptions
 *   manage:<pattern>   create, change and delete streams and what hangs off them; implies both above
 * No pattern reaches an internal stream (`_sink.*`, `_rule.*`, dead letters: see
 * internal-streams.ts): those are for admins and the owner of what they serve.
 */
import { RivuletError } from '../../kernel/errors.js';
import { compileLinearRegex, type LinearRegex } from '../../mapping/linear-regex.js';
import { isInternalStream } from '../streams/internal-streams.js';

export type Action = 'produce' | 'consume' | 'manage';
export const ACTIONS: readonly Action[] = ['produce', 'consume', 'manage'];

export interface Grant {
  action: Action;
  pattern: LinearRegex;
  source: string;
}

const SCOPE = /^(produce|consume|manage):([A-Za-z0-9_.~*-]{1,200})$/;

export function assertScope(scope: string, pointer: string): void {
  if (scope !== 'admin' && !SCOPE.test(scope)) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `"${scope}" is not a scope: use admin, or produce:, consume: or manage: followed by a stream pattern such as orders.*`,
      {
        details: { pointer },
      },
    );
  }
}

export function parseGrants(scopes: string[]): { admin: boolean; grants: Grant[] } {
  let admin = false;
  const grants: Grant[] = [];
  for (const scope of scopes) {
    if (scope === 'admin') {
      admin = true;
      continue;
    }
    const m = SCOPE.exec(scope);
    if (!m) continue;
    const escaped = m[2]!.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*');
    // RE2: a scope with many `*` would make a backtracking engine polynomial in the name's length
    // (a scope is at most 200 characters, so its program stays far below the raised size limit)
    grants.push({
      action: m[1] as Action,
      pattern: compileLinearRegex(`^${escaped}$`, { maxSize: 10_000 }),
      source: scope,
    });
  }
  return { admin, grants };
}

export function grantsAllow(grants: Grant[], action: Action, stream: string): boolean {
  return !isInternalStream(stream) && grantsMatch(grants, action, stream);
}

/** the patterns alone, internal streams included: for the owner of an internal stream */
export function grantsMatch(grants: Grant[], action: Action, stream: string): boolean {
  return grants.some((g) => (g.action === action || g.action === 'manage') && g.pattern.test(stream));
}

/** true when some grant of the key reaches this stream at all (for listings) */
export function grantsSee(grants: Grant[], stream: string): boolean {
  return !isInternalStream(stream) && grants.some((g) => g.pattern.test(stream));
}
