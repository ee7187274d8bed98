/**
 * The secret fields of a target configuration given when a sink is saved, resolved against
 * the stored configuration before the target's `check` reads it (docs/delivery.md, "Secrets
 * when a sink changes"). Answers show every secret as `[redacted]`, so a client that reads a
 * sink, edits it and sends it back sends that placeholder: it means "keep the stored secret"
 * and is never stored as one. Per secret field:
 *
 * - the placeholder: the stored value (refused when there is none: on create, after a change
 *   of target kind, for a secret the sink never had);
 * - absent: the stored value when omitted secrets are kept (a PATCH), none when they are not
 *   (create, a spec, an aether job: each says the whole target);
 * - null: removed (the field is dropped, so the check sees it unset and refuses it where it
 *   is required);
 * - anything else: the new value, checked as usual.
 *
 * The resolvers work on a copy of the configuration as sent; a shape they do not expect is left
 * alone for the check to refuse with its own message. Action targets (docs/rules.md) hold the
 * same kinds of secrets and resolve them with these too (src/delivery/rules/action-target-secrets.ts).
 */
import type { RivuletError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/envelope.js';
import type { OmittedSecrets } from '../../core/sinks/sink-model.js';
import { REDACTED, isSecretName } from '../../kernel/secret-names.js';
import { invalidTarget, pointerOf } from './target-config.js';

export type ConfigObject = Record<string, unknown>;

export function isConfigObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** the placeholder where no stored secret exists to stand for */
export function nothingToKeep(path: readonly string[]): RivuletError {
  return invalidTarget(
    `${path.join('.')} is "${REDACTED}", the placeholder answers show for a secret, but no secret is stored there to keep; send the secret itself`,
    pointerOf(path),
  );
}

/** One secret field of `into` (a copy of part of the configuration, at `path`), resolved in place. */
export function resolveSecret(
  into: ConfigObject,
  field: string,
  stored: unknown,
  omitted: OmittedSecrets,
  path: readonly string[],
): void {
  const given = into[field];
  const have = stored !== undefined && stored !== null;
  if (given === REDACTED) {
    if (!have) throw nothingToKeep([...path, field]);
    into[field] = stored;
  } else if (given === undefined) {
    if (omitted === 'keep' && have) into[field] = stored;
  } else if (given === null) {
    delete into[field];
  }
}

/**
 * An object holding secrets (credentials, auth, basic_auth, signing), a field of the top-level
 * configuration: absent, the stored one whole when omitted secrets are kept; the placeholder in
 * its place (specs are answered with whole credential objects replaced), the stored one whole;
 * null, removed. Answers a copy of the given object, placed in `into`, for its members to be
 * resolved in; undefined when there is nothing more to resolve.
 */
export function secretGroup(
  into: ConfigObject,
  field: string,
  stored: JsonObject | null | undefined,
  omitted: OmittedSecrets,
): ConfigObject | undefined {
  const given = into[field];
  if (given === REDACTED) {
    if (stored === undefined || stored === null) throw nothingToKeep([field]);
    into[field] = structuredClone(stored);
    return undefined;
  }
  if (given === undefined) {
    if (omitted === 'keep' && stored !== undefined && stored !== null) into[field] = structuredClone(stored);
    return undefined;
  }
  if (given === null) {
    delete into[field];
    return undefined;
  }
  if (!isConfigObject(given)) return undefined;
  const copy = { ...given };
  into[field] = copy;
  return copy;
}

/** A shallow copy of the configuration as sent, or undefined when it is not an object (the check refuses it). */
export function configCopy(given: unknown): ConfigObject | undefined {
  return isConfigObject(given) ? { ...given } : undefined;
}

/**
 * `headers` of `into`: one whose name looks secret (`secretName`) given as the placeholder keeps
 * the stored value of that name (names match whatever their case); null drops a header and
 * `headers: null` all of them; secret ones left out are kept when omitted secrets are kept.
 */
export function resolveHeaders(into: ConfigObject, stored: Record<string, string>, omitted: OmittedSecrets): void {
  if (into['headers'] === null) {
    // no headers at all: the secret ones go too
    delete into['headers'];
    return;
  }
  const given = into['headers'] ?? {};
  if (!isConfigObject(given)) return;
  const storedValue = (name: string): string | undefined =>
    Object.entries(stored).find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value === null) continue;
    if (value === REDACTED && isSecretName(name)) {
      const kept = storedValue(name);
      if (kept === undefined) throw nothingToKeep(['headers', name]);
      headers[name] = kept;
    } else {
      headers[name] = value;
    }
  }
  if (omitted === 'keep') {
    const named = new Set(Object.keys(given).map((n) => n.toLowerCase()));
    for (const [name, value] of Object.entries(stored))
      if (isSecretName(name) && !named.has(name.toLowerCase())) headers[name] = value;
  }
  if (into['headers'] !== undefined || Object.keys(headers).length > 0) into['headers'] = headers;
}

/**
 * `signing` of `into` (Standard Webhooks secrets). Its secrets line up by position with the list
 * answers show: the placeholder at position i keeps the i-th stored secret, null drops it, a new
 * secret takes its place (or is added), so a rotation is `["[redacted]", "whsec_new"]` and
 * retiring the old secret later `[null, "[redacted]"]`. The placeholder in place of the list
 * keeps it whole.
 */
export function resolveSigning(
  into: ConfigObject,
  stored: { secrets: string[] } | null | undefined,
  omitted: OmittedSecrets,
): void {
  const signing = secretGroup(into, 'signing', stored, omitted);
  if (signing === undefined) return;
  const kept = stored?.secrets ?? [];
  const list = signing['secrets'];
  if (list === undefined && omitted === 'keep' && kept.length > 0) signing['secrets'] = [...kept];
  if (list === REDACTED) {
    if (kept.length === 0) throw nothingToKeep(['signing', 'secrets']);
    signing['secrets'] = [...kept];
  }
  if (Array.isArray(list)) {
    signing['secrets'] = list.flatMap((secret: unknown, i) => {
      if (secret === null) return [];
      if (secret !== REDACTED) return [secret];
      if (kept[i] === undefined) throw nothingToKeep(['signing', 'secrets', String(i)]);
      return [kept[i]];
    });
  }
}
