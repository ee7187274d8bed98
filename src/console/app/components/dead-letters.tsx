/**
 * What a sink dead-lettered: the latest events of its dead-letter streams whose
 * `meta.deadLetter.sink` is this sink. A row opens the dead letter as stored; **Retry** on a
 * row delivers its source event once more (a replay of that one seq,
 * `POST /v1/sinks/{id}/replay`); **Retry all** delivers everything dead-lettered again (a side
 * job of the sink, `POST /v1/sinks/{id}/dead-letters/retry`).
 */
import { useState } from 'preact/hooks';
import { api, ApiError, enc, type RivuletEvent, type Sink, type Stream } from '../api';
import { usePoll } from '../use-poll';
import { ErrorNote } from './error-note';
import { EventDetail } from './event-detail';
import { Time } from './time';

interface DeadLetter {
  sink: string;
  stream: string;
  seq: number;
  error: string | null;
  status: number | null;
  attempts: number;
  reason: string;
  at: string;
}

interface Row {
  dlq: string;
  event: RivuletEvent;
  dead: DeadLetter;
}

const LATEST = 100;

export function deadLetterStreams(sink: Sink): string[] {
  return [...new Set(sink.streams.map((s) => sink.deadLetterStream ?? `${s}.dlq`))];
}

async function load(sink: Sink, signal: AbortSignal): Promise<Row[]> {
  const rows: Row[] = [];
  for (const dlq of deadLetterStreams(sink)) {
    let stream: Stream;
    try {
      stream = await api<Stream>(`/v1/streams/${enc(dlq)}`, { signal });
    } catch (err) {
      // created on first use: no stream, no dead letters
      if (err instanceof ApiError && err.status === 404) continue;
      throw err;
    }
    const after = Math.max(0, stream.stats.lastSeq - LATEST);
    const page = await api<{ events: RivuletEvent[] }>(
      `/v1/streams/${enc(dlq)}/events?after=${after}&limit=${LATEST}`,
      { signal },
    );
    for (const event of page.events) {
      const dead = event.meta?.['deadLetter'] as DeadLetter | undefined;
      if (dead?.sink === sink.id) rows.push({ dlq, event, dead });
    }
  }
  return rows.sort((a, b) => b.dead.at.localeCompare(a.dead.at));
}

export function DeadLetters({ sink, onRetried }: { sink: Sink; onRetried: () => void }) {
  const rows = usePoll((signal) => load(sink, signal), [sink.id, sink.stats.deadLettered], 5000);
  const [note, setNote] = useState('');
  const [error, setError] = useState<Error | undefined>(undefined);
  const [open, setOpen] = useState<Row | undefined>(undefined);
  const retryOne = async (dead: DeadLetter) => {
    setError(undefined);
    try {
      await api(`/v1/sinks/${enc(sink.id)}/replay`, {
        method: 'POST',
        body: { stream: dead.stream, fromSeq: dead.seq, toSeq: dead.seq },
      });
      setNote(
        `Retrying ${dead.stream} seq ${dead.seq}: it is delivered once more; if it fails again it is dead-lettered again.`,
      );
      onRetried();
    } catch (err) {
      setError(err as Error);
    }
  };
  const retry = async () => {
    setError(undefined);
    try {
      const answer = await api<{ jobs: unknown[] }>(`/v1/sinks/${enc(sink.id)}/dead-letters/retry`, { method: 'POST' });
      setNote(
        `Retrying: ${answer.jobs.length} job${answer.jobs.length === 1 ? '' : 's'} started. Events that fail again are dead-lettered again under new ids.`,
      );
      onRetried();
    } catch (err) {
      setError(err as Error);
    }
  };
  const retrying = sink.jobs.filter((j) => j['kind'] === 'dead-letters').length;
  return (
    <div class="dead-letters">
      <div class="controls">
        <button
          type="button"
          class="retry-dead-letters"
          disabled={!rows.data || rows.data.length === 0}
          onClick={() => void retry()}
        >
          Retry all
        </button>
        <span class="muted small-text">
          from {deadLetterStreams(sink).join(', ')} · {sink.stats.deadLettered} dead-lettered in all
          {retrying > 0 ? ` · retry running on ${retrying} stream${retrying === 1 ? '' : 's'}` : ''}
        </span>
      </div>
      {note ? (
        <p class="note" data-note="retry">
          {note}
        </p>
      ) : null}
      <ErrorNote error={error ?? rows.error} />
      {!rows.data ? (
        rows.error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : rows.data.length === 0 ? (
        <p class="muted">No dead letters.</p>
      ) : (
        <table class="dead-letters">
          <thead>
            <tr>
              <th>dead-lettered</th>
              <th>source</th>
              <th class="num">seq</th>
              <th>type</th>
              <th class="num">attempts</th>
              <th class="num">status</th>
              <th>reason</th>
              <th>error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.data.map(({ dlq, event, dead }) => (
              <tr
                key={`${dlq}-${event.seq}`}
                data-dead-seq={dead.seq}
                class={open?.event.id === event.id ? 'selected' : ''}
              >
                <td>
                  <Time iso={dead.at} />
                </td>
                <td>{dead.stream}</td>
                <td class="num">{dead.seq}</td>
                <td>{event.type}</td>
                <td class="num">{dead.attempts}</td>
                <td class="num code bad">{dead.status ?? '—'}</td>
                <td>{dead.reason}</td>
                <td class="small-text error-text">{dead.error ?? ''}</td>
                <td class="row-actions">
                  <button type="button" class="small inspect" onClick={() => setOpen({ dlq, event, dead })}>
                    Inspect
                  </button>
                  <button type="button" class="small retry-one" onClick={() => void retryOne(dead)}>
                    Retry
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open ? <EventDetail event={open.event} onClose={() => setOpen(undefined)} /> : null}
      <p class="muted small-text">
        The latest {LATEST} events of each dead-letter stream are searched; the stream keeps every copy, retried or not.
      </p>
    </div>
  );
}
