/** Consumers of some streams with their lag, refreshed every few seconds. */
import { api, enc, type Consumer, type Lag } from '../api';
import { count, duration } from '../format';
import { href } from '../router';
import { usePoll } from '../use-poll';
import { ErrorNote } from './error-note';

interface Row {
  consumer: Consumer;
  lag: Lag | null;
}

async function rowsOf(streams: string[], signal: AbortSignal): Promise<Row[]> {
  const lists = await Promise.all(streams.map((s) => api<{ consumers: Consumer[] }>(`/v1/streams/${enc(s)}/consumers?limit=100`, { signal }).then((r) => r.consumers)));
  const consumers = lists.flat();
  return Promise.all(
    consumers.map(async (consumer) => ({
      consumer,
      lag: await api<Lag>(`/v1/streams/${enc(consumer.stream)}/consumers/${enc(consumer.name)}/lag`, { signal }).catch(() => null),
    })),
  );
}

export function ConsumersTable({ streams, showStream = true }: { streams: string[]; showStream?: boolean }) {
  const rows = usePoll((signal) => rowsOf(streams, signal), [streams.join('\n')], 5000);
  if (rows.error) return <ErrorNote error={rows.error} />;
  if (!rows.data) return <p class="muted">Loading…</p>;
  if (rows.data.length === 0) return <p class="muted">No consumers.</p>;
  return (
    <table class="consumers">
      <thead>
        <tr>
          {showStream ? <th>stream</th> : null}
          <th>consumer</th>
          <th>types</th>
          <th class="num">committed</th>
          <th class="num">lag (events)</th>
          <th class="num">leased</th>
          <th class="num">oldest unacked</th>
          <th>dead letters to</th>
        </tr>
      </thead>
      <tbody>
        {rows.data.map(({ consumer, lag }) => (
          <tr key={`${consumer.stream}\n${consumer.name}`} data-consumer={consumer.name}>
            {showStream ? (
              <td>
                <a href={href('streams', consumer.stream)}>{consumer.stream}</a>
              </td>
            ) : null}
            <td>{consumer.name}</td>
            <td>{consumer.types.length > 0 ? consumer.types.join(', ') : <span class="muted">all</span>}</td>
            <td class="num">{count(lag?.committedSeq ?? consumer.committedSeq)}</td>
            <td class={`num lag${lag && lag.pending > 0 ? ' behind' : ''}`}>{lag ? count(lag.pending) : '—'}</td>
            <td class="num">{lag ? count(lag.leased) : '—'}</td>
            <td class="num">{duration(lag?.oldestUnackedAgeMs ?? null)}</td>
            <td>{consumer.deadLetterStream ?? <span class="muted">none</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
