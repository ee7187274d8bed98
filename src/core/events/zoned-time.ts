/**
 * Wall-clock times in a named IANA time zone, turned into instants with the runtime's Intl
 * data (no tz database of our own). Used by the event server's `system.time` + `timezone`.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** the formatter of a zone, or null when the runtime does not know the zone */
function formatterOf(zone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(zone);
  if (f) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return null;
  }
  if (formatters.size > 1000) formatters.clear();
  formatters.set(zone, f);
  return f;
}

export function isTimeZone(zone: string): boolean {
  return zone.length > 0 && zone.length <= 64 && formatterOf(zone) !== null;
}

/** the zone's offset from UTC at an instant, in milliseconds */
function offsetAt(f: Intl.DateTimeFormat, instantMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(instantMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?$/;

/**
 * `2017-09-06 13:58:12` in `Europe/Berlin` → epoch ms, or undefined when the text is not a
 * local date-time or the zone is unknown. A time that falls in a DST gap or overlap resolves
 * to the earlier offset, as most libraries do.
 */
export function zonedToEpochMs(local: string, zone: string): number | undefined {
  const m = LOCAL.exec(local);
  const f = formatterOf(zone);
  if (!m || !f) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const wall = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    frac ? Number(frac.slice(1).padEnd(3, '0')) : 0,
  );
  const check = new Date(wall);
  if (
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return undefined;
  const first = wall - offsetAt(f, wall);
  const second = wall - offsetAt(f, first);
  return Math.min(first, second);
}
