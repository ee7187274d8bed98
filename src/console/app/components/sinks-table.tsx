/** Sinks with status, deliveries, error rate and lag; all of them, or those reading some streams. */
import { api, type Sink } from '../api';
import { count } from '../format';
import { href } from '../router';
import { usePoll } from '../use-poll';
import { ErrorNote } from './error-note';
import { SinkStatusBadge } from './sink-status';
import { Time } from './time';

/** failed attempts among all attempts, as a percentage */
export function errorRate(stats: Sink['stats']): string {
  const attempts = stats.delivered + stats.failed;
  if (attempts === 0) return '—';
  const pct = (stats.failed / attempts) * 100;
  return `${pct === 0 || pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

export function SinksTable({ stream }: { stream?: string }) {
  const list = usePoll((signal) => api<{ sinks: Sink[] }>('/v1/sinks?limit=1000', { signal }), [], 2000);
  if (list.error) return <ErrorNote error={list.error} />;
  if (!list.data) return <p class="muted">Loading…</p>;
  const sinks = stream === undefined ? list.data.sinks : list.data.sinks.filter((s) => s.streams.includes(stream));
  if (sinks.length === 0)
    return <p class="muted">No sinks{stream === undefined ? ' (or none this key may see)' : ' read this stream'}.</p>;
  return (
    <table class="sinks">
      <thead>
        <tr>
          <th>sink</th>
          <th>status</th>
          <th>target</th>
          <th>streams</th>
          <th class="num">delivered</th>
          <th class="num">failed</th>
          <th class="num">error rate</th>
          <th class="num">dead letters</th>
          <th class="num">lag</th>
          <th>last error</th>
        </tr>
      </thead>
      <tbody>
        {sinks.map((s) => (
          <tr key={s.id} data-sink={s.id}>
            <td>
              <a href={href('sinks', s.id)}>{s.id}</a>
              {s.description ? <div class="muted small-text">{s.description}</div> : null}
            </td>
            <td>
              <SinkStatusBadge status={s.status} />
            </td>
            <td>{s.target.kind}</td>
            <td>{s.streams.join(', ')}</td>
            <td class="num delivered">{count(s.stats.delivered)}</td>
            <td class="num">{count(s.stats.failed)}</td>
            <td class={`num${s.stats.failed > 0 ? ' bad' : ''}`}>{errorRate(s.stats)}</td>
            <td class="num">{count(s.stats.deadLettered)}</td>
            <td class={`num lag${s.lag.pending > 0 ? ' behind' : ''}`}>{count(s.lag.pending)}</td>
            <td class="small-text" title={s.stats.lastError ?? ''}>
              {s.stats.lastErrorAt ? (
                <>
                  <Time iso={s.stats.lastErrorAt} />: {clip(s.stats.lastError ?? '', 60)}
                </>
              ) : (
                <span class="muted">none</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function clip(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
