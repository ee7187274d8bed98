/** A sink's attempt log, newest first: outcome, response code, latency, error, what came next. */
import { useState } from 'preact/hooks';
import { api, enc, type Attempt } from '../api';
import { usePoll } from '../use-poll';
import { ErrorNote } from './error-note';
import { Time } from './time';

function statusClass(a: Attempt): string {
  if (a.outcome === 'success') return 'ok';
  return a.outcome === 'permanent' ? 'bad' : 'warn';
}

export function AttemptLog({ sink, path = `/v1/sinks/${enc(sink)}/attempts` }: { sink: string; path?: string }) {
  const [limit, setLimit] = useState(50);
  const log = usePoll(
    (signal) => api<{ attempts: Attempt[] }>(`${path}?limit=${limit}`, { signal }),
    [path, limit],
    2000,
  );
  if (log.error) return <ErrorNote error={log.error} />;
  if (!log.data) return <p class="muted">Loading…</p>;
  const attempts = log.data.attempts;
  const latencies = attempts.map((a) => a.latencyMs).sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return (
    <div class="attempt-log">
      <p class="muted small-text">
        {attempts.length === 0
          ? 'No attempts yet.'
          : `${attempts.length} latest attempts: latency p50 ${p(0.5)} ms, p95 ${p(0.95)} ms, max ${latencies[latencies.length - 1]} ms.`}{' '}
        <label>
          show{' '}
          <select
            value={String(limit)}
            onChange={(e) => setLimit(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            <option>50</option>
            <option>200</option>
            <option>1000</option>
          </select>
        </label>
      </p>
      {attempts.length > 0 ? (
        <table class="attempts">
          <thead>
            <tr>
              <th>time</th>
              <th>stream</th>
              <th class="num">seq</th>
              <th class="num">attempt</th>
              <th>outcome</th>
              <th class="num">status</th>
              <th class="num">latency</th>
              <th>next</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a, i) => (
              <tr key={`${a.deliveryId}-${a.attempt}-${i}`} data-seq={a.seq} data-outcome={a.outcome}>
                <td>
                  <Time iso={a.at} />
                </td>
                <td>{a.stream}</td>
                <td class="num">{a.seq}</td>
                <td class="num">{a.attempt}</td>
                <td>
                  <span class={`outcome ${statusClass(a)}`}>{a.outcome}</span>
                </td>
                <td class={`num code ${statusClass(a)}`}>{a.status ?? '—'}</td>
                <td class="num">{a.latencyMs} ms</td>
                <td class="small-text">{a.action}</td>
                <td class="small-text error-text">{a.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
