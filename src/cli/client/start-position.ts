/**
 * Where a consumer, sink or tail starts: `beginning`, `end`, a seq (the first seq delivered)
 * or a time (RFC 3339, or a date: midnight UTC). The API's `start` bodies take exactly these forms.
 */
import { InvalidArgumentError } from 'commander';

export type StartPosition =
  { from: 'beginning' } | { from: 'end' } | { from: 'seq'; seq: number } | { from: 'time'; time: string };

const TIME = /^\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** A commander argument parser: bad values are usage errors (exit 2). */
export function parseStartPosition(text: string): StartPosition {
  const value = text.trim();
  if (value === 'beginning' || value === 'end') return { from: value };
  if (/^\d+$/.test(value)) {
    const seq = Number(value);
    if (seq < 1 || !Number.isSafeInteger(seq))
      throw new InvalidArgumentError(`"${text}" is not a seq (a whole number ≥ 1)`);
    return { from: 'seq', seq };
  }
  if (TIME.test(value) && !Number.isNaN(Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value))) {
    return { from: 'time', time: value.length === 10 ? `${value}T00:00:00Z` : value };
  }
  throw new InvalidArgumentError(
    `"${text}" is not a position; use beginning, end, a seq (42) or a time (2024-05-01T10:00:00Z)`,
  );
}

export function describeStart(start: StartPosition): string {
  switch (start.from) {
    case 'beginning':
    case 'end':
      return `the ${start.from}`;
    case 'seq':
      return `seq ${start.seq}`;
    case 'time':
      return start.time;
  }
}
