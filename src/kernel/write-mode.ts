/**
 * A stream's write mode, `options.writeMode`:
 * - `chained` (the default): one total order in which every request's events are contiguous
 *   and all-or-nothing, with per-type positions (typeSeq). On a store shared by several
 *   processes, their appends to one stream take turns.
 * - `concurrent`: for a hot stream written through many processes. Seqs stay gap-free in one
 *   total order, and a request's events keep their order, but they may interleave with other
 *   requests' events, and typeSeq is 0. A store whose appends never contend (SQLite, one
 *   process) keeps giving the `chained` guarantees either way.
 * Fixed when the stream is created: switching would break the typeSeq numbering.
 */
import { RivuletError } from './errors.js';
import type { JsonObject } from './envelope.js';

export type WriteMode = 'chained' | 'concurrent';

const MODES: readonly string[] = ['chained', 'concurrent'];

export function writeModeOf(options: JsonObject): WriteMode {
  return options['writeMode'] === 'concurrent' ? 'concurrent' : 'chained';
}

/** refuses an unknown mode, and (given the stream's current options) a change of mode */
export function assertWriteMode(options: JsonObject | undefined, current?: JsonObject): void {
  const asked = options?.['writeMode'];
  if (asked === undefined) return;
  if (typeof asked !== 'string' || !MODES.includes(asked)) {
    throw new RivuletError('VALIDATION_FAILED', 'options.writeMode must be "chained" or "concurrent"', {
      details: { pointer: '/options/writeMode' },
    });
  }
  if (current !== undefined && writeModeOf(current) !== asked) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `options.writeMode is fixed when a stream is created (this one is "${writeModeOf(current)}")`,
      {
        details: { pointer: '/options/writeMode' },
      },
    );
  }
}

/** options of a change that leaves writeMode out keep the stream's mode */
export function keepWriteMode(options: JsonObject, current: JsonObject): JsonObject {
  if (options['writeMode'] !== undefined || current['writeMode'] === undefined) return options;
  return { ...options, writeMode: current['writeMode'] };
}
