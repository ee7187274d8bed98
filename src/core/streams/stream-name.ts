import { RivuletError } from '../../kernel/errors.js';

/**
 * Stream names: 1–200 characters of letters, digits, `_`, `-`, `.` and `~`, starting with a
 * letter, digit or `_`. They are path segments in every API, so no `/`; `.` lets names
 * carry structure (`orders.dlq`, `okdata.my-dataset.raw.1`).
 */
const STREAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.~-]{0,199}$/;

export function assertStreamName(name: string): void {
  if (!STREAM_NAME.test(name) || name.includes('..') || name.endsWith('.')) {
    throw new RivuletError(
      'INVALID_STREAM_NAME',
      `"${name.slice(0, 220)}" is not a valid stream name: use 1–200 letters, digits, "_", "-", "." or "~", starting with a letter, digit or "_", without ".." or a trailing "."`,
      { details: { pointer: '/name' } },
    );
  }
}

export function isStreamName(name: string): boolean {
  return STREAM_NAME.test(name) && !name.includes('..') && !name.endsWith('.');
}
