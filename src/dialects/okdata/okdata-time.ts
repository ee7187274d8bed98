/**
 * okdata's notion of a time: an ISO date (`2020-10-18`, a whole UTC day) or an ISO date-time
 * with or without an offset (`2020-10-18T23:30:00+02:00`; no offset means UTC), as the search
 * cluster okdata used read them. Event timestamps may also be epoch milliseconds.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
const DAY_MS = 86_400_000;

export interface OkdataTime {
  /** epoch milliseconds of the instant (the start of the day for a date) */
  ms: number;
  dateOnly: boolean;
}

export function parseOkdataTime(text: string): OkdataTime | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dateOnly = m[4] === undefined;
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (new Date(local).getUTCDate() !== d) return undefined; // 2021-02-30 and the like
  return { ms: local - offsetMs(m[8]), dateOnly };
}

function offsetMs(offset: string | undefined): number {
  if (!offset || offset === 'Z' || offset === 'z') return 0;
  const digits = offset.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
  return (offset.startsWith('-') ? -1 : 1) * minutes * 60_000;
}

/** the first millisecond a `from` bound includes */
export function fromBoundMs(time: OkdataTime): number {
  return time.ms;
}

/** the last millisecond a `to` bound includes: a date takes in its whole day */
export function toBoundMs(time: OkdataTime): number {
  return time.dateOnly ? time.ms + DAY_MS - 1 : time.ms;
}

/** an event's timestamp field as an RFC 3339 time, or undefined when it holds none */
export function eventTime(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 8.64e15)
    return new Date(value).toISOString();
  if (typeof value !== 'string') return undefined;
  const parsed = parseOkdataTime(value);
  return parsed === undefined ? undefined : new Date(parsed.ms).toISOString();
}
