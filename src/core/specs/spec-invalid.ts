/** The one error a spec that does not hold together fails with, naming where. */
import { RivuletError } from '../../kernel/errors.js';

export function specInvalid(message: string, pointer: string, details: Record<string, unknown> = {}): RivuletError {
  // `problem` keeps the bare message for APIs that show it without the pointer
  return new RivuletError('SPEC_INVALID', `${pointer || '(root)'}: ${message}`, {
    details: { pointer, problem: message, ...details },
  });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** refuses fields the kind does not know, so a typo is an error rather than silently ignored */
export function onlyFields(entry: Record<string, unknown>, allowed: readonly string[], pointer: string): void {
  for (const field of Object.keys(entry)) {
    if (!allowed.includes(field))
      throw specInvalid(`unknown field "${field}" (known: ${allowed.join(', ')})`, `${pointer}/${field}`);
  }
}

/**
 * Runs a check written for an API (VALIDATION_FAILED, INVALID_EXPRESSION, … with a pointer
 * relative to the resource) on a spec entry: its refusal becomes SPEC_INVALID under `pointer`.
 */
export function checkedEntry<T>(check: () => T, pointer: string): T {
  try {
    return check();
  } catch (err) {
    throw asSpecInvalid(err, pointer);
  }
}

/** The same for an asynchronous check. */
export async function checkedEntryAsync<T>(check: () => Promise<T>, pointer: string): Promise<T> {
  try {
    return await check();
  } catch (err) {
    throw asSpecInvalid(err, pointer);
  }
}

const ENTRY_ERRORS = new Set([
  'VALIDATION_FAILED',
  'INVALID_EXPRESSION',
  'INVALID_STREAM_NAME',
  'BAD_REQUEST',
  'SCHEMA_INVALID',
  'UNSUPPORTED_REGEX',
]);

function asSpecInvalid(err: unknown, pointer: string): unknown {
  if (!(err instanceof RivuletError) || !ENTRY_ERRORS.has(err.code)) return err;
  // a stream name's own pointer (`/name`) means nothing inside a sink or a rule
  const inner =
    typeof err.details?.pointer === 'string' && err.code !== 'INVALID_STREAM_NAME' ? err.details.pointer : '';
  return specInvalid(err.message, `${pointer}${inner}`);
}
