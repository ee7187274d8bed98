/** A time as the console shows every time: local, with the UTC instant on hover; optionally how long ago. */
import { ago, localTime, utcTime } from '../format';

export function Time({ iso, relative = false }: { iso: string | null; relative?: boolean }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={utcTime(iso)}>
      {relative ? ago(iso) : localTime(iso)}
    </time>
  );
}
