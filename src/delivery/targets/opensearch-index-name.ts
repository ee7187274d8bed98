/**
 * Time-based index names for the `opensearch` target: `<index>-yyyy.mm` by default (monthly),
 * or `-yyyy.mm.dd` (daily), `-yyyy` (yearly), or no suffix. The date is the event's `time`
 * (when it happened, as its producer said), in UTC, so a late event lands in the index of
 * its own period, where searches by time look for it.
 *
 * `index` may hold `{stream}`, replaced by the event's stream in lower case (index names
 * must be lower case), so one sink over several streams can keep an index per stream.
 */

export const DATE_SUFFIXES = ['daily', 'monthly', 'yearly', 'none'] as const;
export type DateSuffix = (typeof DATE_SUFFIXES)[number];

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function dateSuffix(time: string, suffix: DateSuffix): string {
  if (suffix === 'none') return '';
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw new Error(`not a timestamp: ${JSON.stringify(time)}`);
  const year = pad(date.getUTCFullYear(), 4);
  if (suffix === 'yearly') return `-${year}`;
  const month = `${year}.${pad(date.getUTCMonth() + 1)}`;
  return suffix === 'monthly' ? `-${month}` : `-${month}.${pad(date.getUTCDate())}`;
}

/** The index one event goes to. */
export function indexName(template: string, suffix: DateSuffix, event: { stream: string; time: string }): string {
  return `${template.replaceAll('{stream}', event.stream.toLowerCase())}${dateSuffix(event.time, suffix)}`;
}

/**
 * Why `template` can never give a valid index name, or undefined when it can. OpenSearch's
 * rules: lower case; none of `\ / * ? " < > | , # :` or spaces; not starting with `-`, `_`
 * or `+`; not `.` or `..`; at most 255 bytes. `{stream}` is checked as a stream name would
 * fill it (stream names are letters, digits and `_.~-`).
 */
export function indexTemplateProblem(template: string): string | undefined {
  const sample = template.replaceAll('{stream}', 's');
  if (/[{}]/.test(sample)) return 'may hold no braces other than the {stream} placeholder';
  if (sample !== sample.toLowerCase()) return 'must be lower case';
  if (/[\\/*?"<>|,#: ]/.test(sample)) return 'must not contain \\ / * ? " < > | , # : or spaces';
  if (/^[-_+]/.test(template)) return 'must not start with -, _ or +';
  if (sample === '.' || sample === '..') return 'must not be . or ..';
  // leave room for the longest date suffix (-yyyy.mm.dd) and a stream name
  if (Buffer.byteLength(sample, 'utf8') > 200) return 'must be at most 200 bytes';
  return undefined;
}
