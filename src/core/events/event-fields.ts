/** Field rules shared by every input shape: what makes a type, source, id or time acceptable. */
import { RivuletError } from '../../kernel/errors.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export const FIELD_LIMITS = { type: 256, source: 1024, id: 256 } as const;

export function invalidField(index: number | undefined, pointer: string, message: string): RivuletError {
  const where = index === undefined ? '' : `event ${index}: `;
  return new RivuletError('INVALID_EVENT', `${where}${message}`, {
    details: { ...(index === undefined ? {} : { index }), pointer },
  });
}

/** A required or optional short text field: a string, bounded, without control characters. */
export function textField(
  value: unknown,
  name: keyof typeof FIELD_LIMITS,
  at: { index?: number; pointer: string },
  required: boolean,
): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw invalidField(at.index, at.pointer, `"${name}" is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidField(at.index, at.pointer, `"${name}" must be a non-empty string`);
  }
  if (value.length > FIELD_LIMITS[name]) {
    throw invalidField(at.index, at.pointer, `"${name}" is longer than ${FIELD_LIMITS[name]} characters`);
  }
  if (CONTROL.test(value)) throw invalidField(at.index, at.pointer, `"${name}" must not contain control characters`);
  return value;
}

/**
 * `textField` for the field `name` of an event at `base` (pointer `${base}/${name}`), with
 * the pointer built only when the value is refused: batches check thousands of fields.
 */
export function eventTextField(
  value: unknown,
  name: keyof typeof FIELD_LIMITS,
  index: number | undefined,
  base: string,
  required: boolean,
): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= FIELD_LIMITS[name] && !CONTROL.test(value))
    return value;
  return textField(value, name, { index, pointer: `${base}/${name}` }, required);
}

/** Parses an RFC 3339 timestamp; answers epoch milliseconds or undefined when it is not one. */
export function parseRfc3339(value: string): number | undefined {
  if (!RFC3339.test(value)) return undefined;
  const ms = Date.parse(value.toUpperCase().replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

export function timeField(value: unknown, at: { index?: number; pointer: string }, fallback: () => string): string {
  if (value === undefined || value === null) return fallback();
  if (typeof value !== 'string' || parseRfc3339(value) === undefined) {
    throw invalidField(at.index, at.pointer, `"time" must be an RFC 3339 timestamp like 2024-05-01T12:00:00Z`);
  }
  return value;
}

/** `timeField` for an event at `base`, the pointer built only when the value is refused */
export function eventTimeField(
  value: unknown,
  index: number | undefined,
  base: string,
  fallback: () => string,
): string {
  if (value === undefined || value === null) return fallback();
  if (typeof value === 'string' && parseRfc3339(value) !== undefined) return value;
  return timeField(value, { index, pointer: `${base}/time` }, fallback);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
