/**
 * An action target's secrets when it is saved (docs/rules.md), resolved by the same rules as a
 * sink target's (target-secrets.ts): the placeholder answers show keeps the stored secret and
 * is never stored, null removes, a new value replaces, one left out is kept on a PATCH only.
 * Action targets hold them in their own shape — `auth.password` or `auth.token`, headers,
 * `signing.secrets` — and their secret headers are named by the one rule (kernel/secret-names.ts).
 */
import type { OmittedSecrets } from '../../core/sinks/sink-model.js';
import type { ActionTargetSecrets, GivenActionTargetSecrets } from '../../core/rules/rule-model.js';
import { resolveHeaders, resolveSecret, resolveSigning, secretGroup } from '../targets/target-secrets.js';

/** A copy of `given` with its secrets resolved against `stored` (null: none); errors point under `/target`, as a target's. */
export function resolveActionTargetSecrets(
  given: GivenActionTargetSecrets,
  stored: ActionTargetSecrets | null,
  omitted: OmittedSecrets,
): GivenActionTargetSecrets {
  const into: Record<string, unknown> = { ...given };
  const auth = secretGroup(into, 'auth', stored?.auth, omitted);
  if (auth !== undefined) {
    // a secret of the other auth type is not carried over: `basic` after `bearer` needs its password
    const kept = stored?.auth?.type === auth['type'] ? stored?.auth : undefined;
    resolveSecret(auth, 'password', kept?.type === 'basic' ? kept.password : undefined, omitted, ['auth']);
    resolveSecret(auth, 'token', kept?.type === 'bearer' ? kept.token : undefined, omitted, ['auth']);
  }
  resolveHeaders(into, stored?.headers ?? {}, omitted);
  resolveSigning(into, stored?.signing, omitted);
  return into;
}
