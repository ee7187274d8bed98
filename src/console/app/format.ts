/**
 * How numbers, sizes, rates, durations and times read in the console: one way each. Rates are
 * always per minute; times are local (24-hour, `YYYY-MM-DD HH:MM:SS`) with the UTC instant on
 * hover (see components/time.tsx); sizes in binary units; retention in days.
 */
const numberFormat = new Intl.NumberFormat('en');

export function count(n: number): string {
  return numberFormat.format(n);
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0).replace(/\.0$/, '')} ${units[unit]}`;
}

/** events per minute, from a per-second figure */
export function rate(perSecond: number): string {
  const perMinute = perSecond * 60;
  if (perMinute === 0) return '0/min';
  if (perMinute < 10) return `${perMinute.toFixed(1).replace(/\.0$/, '')}/min`;
  return `${count(Math.round(perMinute))}/min`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function plural(n: number, unit: string): string {
  const text = Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, '');
  return `${text} ${unit}${text === '1' ? '' : 's'}`;
}

/** a span of time in the largest unit that reads well: "7 days", "36 hours", "1.5 s" */
export function span(ms: number): string {
  if (ms >= DAY && ms % (DAY / 2) === 0) return plural(ms / DAY, 'day');
  if (ms >= HOUR) return plural(Math.round((ms / HOUR) * 10) / 10, 'hour');
  if (ms >= MINUTE) return plural(Math.round((ms / MINUTE) * 10) / 10, 'minute');
  if (ms >= 1000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  return `${ms} ms`;
}

export function duration(ms: number | null): string {
  return ms === null ? '—' : span(ms);
}

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  if (ms < -1000) return 'in the future';
  if (ms < MINUTE) return `${Math.max(0, Math.round(ms / 1000))} s ago`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min ago`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h ago`;
  return `${Math.floor(ms / DAY)} days ago`;
}

// Swedish dates read as ISO 8601 (2026-03-01 09:02:00) in local time and 24-hour clock
const localFormat = new Intl.DateTimeFormat('sv-SE', {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** local time, `2026-03-01 10:02:00` */
export function localTime(iso: string | null): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : localFormat.format(ms);
}

/** the UTC instant, for hovers */
export function utcTime(iso: string | null): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

/** a stream's retention in words: "7 days, 1.5 GiB" */
export function retentionText(retention: {
  maxAgeMs?: number | null;
  maxBytes?: number | null;
  maxEvents?: number | null;
}): string {
  const parts: string[] = [];
  if (retention.maxAgeMs) parts.push(span(retention.maxAgeMs));
  if (retention.maxBytes) parts.push(bytes(retention.maxBytes));
  if (retention.maxEvents) parts.push(`${count(retention.maxEvents)} events`);
  return parts.length > 0 ? parts.join(', ') : 'keep everything';
}

/** a chart's width: 520 px, less on a narrow screen */
export function chartWidth(): number {
  return Math.max(260, Math.min(520, window.innerWidth - 40));
}
