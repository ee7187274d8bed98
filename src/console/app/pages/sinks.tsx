/**
 * Sinks: the list, and one sink with its figures, a chart of deliveries and failures, the
 * controls (pause, resume, seek), and tabs for the attempt log, dead letters and settings.
 */
import type { ComponentChild } from 'preact';
import { useState } from 'preact/hooks';
import { api, enc, type Sink, type SinkRateSeries } from '../api';
import { AttemptLog } from '../components/attempt-log';
import { ConfirmDialog } from '../components/confirm-dialog';
import { DeadLetters, deadLetterStreams } from '../components/dead-letters';
import { ErrorNote } from '../components/error-note';
import { JsonView } from '../components/json-view';
import { SeekForm } from '../components/seek-form';
import { SinkEditor } from '../components/sink-editor';
import { SinkChart } from '../components/sink-chart';
import { SinkStatusBadge } from '../components/sink-status';
import { errorRate, SinksTable } from '../components/sinks-table';
import { bytes, chartWidth, count, duration } from '../format';
import { href } from '../router';
import { useAction } from '../use-action';
import { usePoll } from '../use-poll';
import { Time } from '../components/time';

export function SinksPage() {
  const [creating, setCreating] = useState(false);
  return (
    <div class="sinks-page">
      <div class="toolbar">
        <h2>Sinks</h2>
        <button type="button" class="new-sink" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          New sink
        </button>
      </div>
      {creating ? (
        <SinkEditor
          onSaved={(s) => (location.hash = href('sinks', s.id, 'settings'))}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      <SinksTable />
    </div>
  );
}

interface Tab {
  id: string;
  label: string;
  render: (sink: Sink, reload: () => void) => ComponentChild;
}

const tabs: Tab[] = [
  { id: 'attempts', label: 'Attempts', render: (s) => <AttemptLog sink={s.id} /> },
  { id: 'dead-letters', label: 'Dead letters', render: (s, reload) => <DeadLetters sink={s} onRetried={reload} /> },
  { id: 'settings', label: 'Settings', render: (s, reload) => <SinkSettings sink={s} onSaved={reload} /> },
];

function SinkSettings({ sink, onSaved }: { sink: Sink; onSaved: () => void }) {
  // the editor works on the sink as it was when opened (or last saved), so a refresh does not undo typing
  const [snapshot, setSnapshot] = useState(sink);
  const [saved, setSaved] = useState(false);
  const {
    id,
    streams,
    filter,
    transform,
    target,
    policy,
    deadLetterStream,
    jobs,
    owner,
    createdAt,
    updatedAt,
    version,
  } = sink;
  return (
    <>
      <SinkEditor
        key={snapshot.version}
        sink={snapshot}
        onSaved={(s) => {
          setSnapshot(s);
          setSaved(true);
          onSaved();
        }}
      />
      {saved ? (
        <p class="note" data-note="saved">
          Saved as version {snapshot.version}.
        </p>
      ) : null}
      <DeleteSink sink={sink} />
      <details>
        <summary>As the API answers it</summary>
        <div class="json-box">
          <JsonView
            value={{
              id,
              owner,
              streams,
              filter,
              transform,
              target,
              policy,
              deadLetterStream,
              jobs,
              createdAt,
              updatedAt,
              version,
            }}
          />
        </div>
      </details>
    </>
  );
}

/**
 * Deleting a sink after a confirmation naming what goes with it (its positions, stats and
 * attempt log) and what stays (the events it read and its dead-letter streams).
 */
function DeleteSink({ sink }: { sink: Sink }) {
  const [asking, setAsking] = useState(false);
  const action = useAction();
  const remove = async () => {
    const done = await action.run(async () => {
      await api(`/v1/sinks/${enc(sink.id)}`, { method: 'DELETE' });
      return true;
    });
    if (done) location.hash = '#/sinks';
  };
  return (
    <>
      <p>
        <button type="button" class="danger delete-sink" onClick={() => setAsking(true)}>
          Delete sink…
        </button>
      </p>
      <ErrorNote error={action.error} />
      {asking ? (
        <ConfirmDialog
          title={`Delete sink ${sink.id}?`}
          confirmLabel={`Delete ${sink.id}`}
          busy={action.busy}
          onConfirm={() => void remove()}
          onCancel={() => setAsking(false)}
        >
          <p>Goes with it:</p>
          <ul>
            <li data-goes="positions">
              its positions on {sink.streams.join(', ')} ({count(sink.lag.pending)} events not yet delivered) and its
              side jobs
            </li>
            <li data-goes="stats">its figures ({count(sink.stats.delivered)} delivered) and its attempt log</li>
          </ul>
          <p>
            Stays: the events of {sink.streams.join(', ')} and the dead letters in {deadLetterStreams(sink).join(', ')}.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

/** Delivers a range of one source stream again, beside the normal progress (POST …/replay). */
function ReplayForm({
  sink,
  busy,
  onReplay,
}: {
  sink: Sink;
  busy: boolean;
  onReplay: (body: Record<string, unknown>) => Promise<void>;
}) {
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    void onReplay({
      stream: text('stream') || sink.streams[0],
      fromSeq: Number(text('fromSeq')),
      ...(text('toSeq') ? { toSeq: Number(text('toSeq')) } : {}),
    });
  };
  return (
    <form class="filters replay" onSubmit={submit}>
      <label>
        replay
        {sink.streams.length > 1 ? (
          <select name="stream">
            {sink.streams.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        ) : null}
        seq <input name="fromSeq" type="number" min="1" required aria-label="replay from seq" />
      </label>
      <label>
        to <input name="toSeq" type="number" min="1" placeholder="latest" aria-label="replay to seq" />
      </label>
      <button type="submit" disabled={busy}>
        Replay
      </button>
    </form>
  );
}

export function SinkPage({ id, tab }: { id: string; tab: string | undefined }) {
  const sink = usePoll((signal) => api<Sink>(`/v1/sinks/${enc(id)}`, { signal }), [id], 2000);
  const rates = usePoll(
    (signal) => api<SinkRateSeries>(`/v1/sinks/${enc(id)}/rates?window=3600&step=60`, { signal }),
    [id],
    5000,
  );
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const current = tabs.find((t) => t.id === tab) ?? tabs[0]!;
  const s = sink.data;

  const [note, setNote] = useState('');
  const act = async (path: string, body?: unknown) => {
    setBusy(true);
    setActionError(undefined);
    setNote('');
    try {
      const answer = await api<{ job?: { fromSeq?: number; toSeq?: number; stream?: string } }>(
        `/v1/sinks/${enc(id)}/${path}`,
        { method: 'POST', body },
      );
      if (path === 'replay')
        setNote(
          `Replaying ${answer.job?.stream ?? ''} seq ${answer.job?.fromSeq ?? ''}–${answer.job?.toSeq ?? ''} beside the normal progress.`,
        );
      sink.reload();
    } catch (err) {
      setActionError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="sink-page">
      <h2>
        <a href="#/sinks">Sinks</a> / {id}
      </h2>
      <ErrorNote error={sink.error} />
      {s ? (
        <>
          {s.description ? <p>{s.description}</p> : null}
          <div class="controls">
            <SinkStatusBadge status={s.status} />
            {s.state === 'paused' ? (
              <button type="button" disabled={busy} onClick={() => void act('resume')}>
                Resume
              </button>
            ) : (
              <button type="button" disabled={busy} onClick={() => void act('pause')}>
                Pause
              </button>
            )}
            <SeekForm sink={s} busy={busy} onSeek={(body) => act('seek', body)} />
            <ReplayForm sink={s} busy={busy} onReplay={(body) => act('replay', body)} />
          </div>
          {note ? (
            <p class="note" data-note="replay">
              {note}
            </p>
          ) : null}
          <ErrorNote error={actionError} />
          <div class="stream-head">
            <dl class="figures">
              <dt>target</dt>
              <dd>{s.target.kind}</dd>
              <dt>streams</dt>
              <dd>
                {s.streams.map((name, i) => (
                  <span key={name}>
                    {i > 0 ? ', ' : ''}
                    <a href={href('streams', name)}>{name}</a>
                  </span>
                ))}
              </dd>
              <dt>delivered</dt>
              <dd data-figure="delivered">{count(s.stats.delivered)}</dd>
              <dt>failed attempts</dt>
              <dd>
                {count(s.stats.failed)} ({errorRate(s.stats)})
              </dd>
              <dt>retried / dead letters</dt>
              <dd>
                {count(s.stats.retried)} / {count(s.stats.deadLettered)}
              </dd>
              <dt>filtered out</dt>
              <dd>{count(s.stats.filtered)}</dd>
              <dt>bytes</dt>
              <dd>{bytes(s.stats.bytes)}</dd>
              <dt>lag</dt>
              <dd data-figure="lag">
                {count(s.lag.pending)}
                {s.lag.streams.map((l) => (
                  <div key={l.stream} class="muted small-text">
                    {l.stream}: at {l.committedSeq} of {l.lastSeq}, oldest unacked {duration(l.oldestUnackedAgeMs)}
                  </div>
                ))}
              </dd>
              <dt>last success</dt>
              <dd>
                <Time iso={s.stats.lastSuccessAt} />
              </dd>
              <dt>last error</dt>
              <dd class={s.stats.lastError ? 'error' : ''}>
                {s.stats.lastError ? (
                  <>
                    <Time iso={s.stats.lastErrorAt} />: {s.stats.lastError}
                  </>
                ) : (
                  '—'
                )}
              </dd>
              <dt>delivered by</dt>
              <dd>{s.deliveredBy ?? <span class="muted">no process</span>}</dd>
            </dl>
            <div>
              <SinkChart series={rates.data} width={chartWidth()} height={170} />
              <p class="muted small-text">Per minute, counted by this server process since it started.</p>
            </div>
          </div>
          <nav class="tabs">
            {tabs.map((t) => (
              <a key={t.id} href={href('sinks', id, t.id)} class={t === current ? 'active' : ''}>
                {t.label}
              </a>
            ))}
          </nav>
          <div class="tab-body">{current.render(s, sink.reload)}</div>
        </>
      ) : sink.error ? null : (
        <p class="muted">Loading…</p>
      )}
    </div>
  );
}
