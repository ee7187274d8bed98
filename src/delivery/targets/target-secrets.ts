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
 * alone for the check to refuse with its own message.
 */
import type { RivuletError } from '../../core/errors.js';
import type { JsonObject } from '../../core/events/envelope.js';
import type { OmittedSecrets } from '../../core/sinks/sink-model.js';
import { REDACTED, invalidTarget, pointerOf } from './target-config.js';

export type ConfigObject = Record<string, unknown>;

export function isConfigObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** the placeholder where no stored secret exists to stand for */
export function nothingToKeep(path: readonly string[]): RivuletError {
  return invalidTarget(
    `${path.join('.')} is "${REDACTED}", the placeholder answers show for a secret, but this sink has no stored secret there to keep; send the secret itself`,
    pointerOf(path),
  );
}

/** One secret field of `into` (a copy of part of the configuration, at `path`), resolved in place. */
export function resolveSecret(into: ConfigObject, field: string, stored: unknown, omitted: OmittedSecrets, path: readonly string[]): void {
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
export function secretGroup(into: ConfigObject, field: string, stored: JsonObject | null | undefined, omitted: OmittedSecrets): ConfigObject | undefined {
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
