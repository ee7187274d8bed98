/** Time as every floor sees it (core, stores, dialects); tests pass a fixed or stepping clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

let formattedMs = Number.NaN;
let formatted = '';

/** `date` as RFC 3339 text; requests in one millisecond share the formatting, which costs more than reading the clock */
export function isoTime(date: Date): string {
  const ms = date.getTime();
  if (ms !== formattedMs) {
    formatted = date.toISOString();
    formattedMs = ms;
  }
  return formatted;
}
