/**
 * Secrets in a spec (a sink target's token, an action target's password) are stored with the
 * revision, because applying it again needs them, but never answered: revisions are shown with
 * each kind's `shown` applied to its entries, and plans show values the kinds redacted.
 */
import type { JsonObject, JsonValue } from '../../kernel/envelope.js';
import { REDACTED, isSecretName } from '../../kernel/secret-names.js';
import { redactedUrl } from '../../kernel/secret-urls.js';
import type { SpecResourceKind } from './resource-kind.js';
import type { SpecSection } from './spec-section.js';
import { isPlainObject } from './spec-invalid.js';

/**
 * A copy of `value` with every field whose name looks like a credential replaced: a
 * conservative rule for configurations as uploaded, which have no checked shape yet.
 */
export function redactByName(value: JsonValue): JsonValue {
  // a URL's own secrets (userinfo password, secret-named parameters) go too
  if (typeof value === 'string') return value.includes('://') ? redactedUrl(value) : value;
  if (Array.isArray(value)) return value.map(redactByName);
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value as JsonObject))
    out[k] = isSecretName(k) && v !== null ? REDACTED : redactByName(v);
  return out;
}

/** The spec with every kind's entries, and every kept section, as their `shown` makes them. */
export function shownSpec(
  spec: JsonObject,
  kinds: readonly SpecResourceKind[],
  kept: readonly SpecSection[] = [],
): JsonObject {
  const out: JsonObject = { ...spec };
  for (const section of kept) {
    const value = spec[section.section];
    if (section.shown !== undefined && value !== undefined) out[section.section] = section.shown(value);
  }
  for (const kind of kinds) {
    const entries = spec[kind.section];
    if (kind.shown === undefined || !Array.isArray(entries)) continue;
    out[kind.section] = entries.map((e) => (isPlainObject(e) ? kind.shown!(e as JsonObject) : e));
  }
  return out;
}
