/** `start:` of a sink or a rule in a spec: where it starts reading when it is created. */
import type { JsonObject } from '../../../kernel/envelope.js';
import type { StartPosition } from '../../../store/port.js';
import { isPlainObject, onlyFields, specInvalid } from '../spec-invalid.js';

export function parseStart(value: unknown, pointer: string): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) throw specInvalid('"start" is { from: beginning | end | seq | time }', pointer);
  onlyFields(value, ['from', 'seq', 'time'], pointer);
  if (value.from === 'beginning' || value.from === 'end') return { from: value.from };
  if (value.from === 'seq' && Number.isSafeInteger(value.seq) && (value.seq as number) >= 1)
    return { from: 'seq', seq: value.seq as number };
  if (value.from === 'time' && typeof value.time === 'string' && !Number.isNaN(Date.parse(value.time)))
    return { from: 'time', time: value.time };
  throw specInvalid(
    '"start" is { from: beginning }, { from: end }, { from: seq, seq: <n ≥ 1> } or { from: time, time: <RFC 3339> }',
    pointer,
  );
}

/** the parsed `start` as the stores take it; none: the end (events from now on) */
export function startPosition(start: JsonObject | null): StartPosition {
  if (start === null) return { from: 'end' };
  if (start.from === 'seq') return { from: 'seq', seq: start.seq as number };
  if (start.from === 'time') return { from: 'time', timeMs: Date.parse(start.time as string) };
  return { from: start.from as 'beginning' | 'end' };
}
