/**
 * Consumers of some streams with their lag, refreshed every few seconds; with `manage`, a form
 * to create one and, per consumer, seek (to a seq or a time), reset (to the beginning) and
 * delete.
 */
import { useState } from 'preact/hooks';
import { api, enc, type Consumer, type Lag } from '../api';
import { count, duration } from '../format';
import { href } from '../router';
import { useAction, type Action } from '../use-action';
import { usePoll } from '../use-poll';
import { ConfirmDialog } from './confirm-dialog';
import { ErrorNote } from './error-note';
import { FieldError } from './field-error';

interface Row {
  consumer: Consumer;
  lag: Lag | null;
}

async function rowsOf(streams: string[], signal: AbortSignal): Promise<Row[]> {
  const lists = await Promise.all(
    streams.map((s) =>
      api<{ consumers: Consumer[] }>(`/v1/streams/${enc(s)}/consumers?limit=100`, { signal }).then((r) => r.consumers),
    ),
  );
  // a sink's own consumers (sink.<id>) show on the sink's page
  const consumers = lists.flat().filter((c) => !c.name.startsWith('sink.'));
  return Promise.all(
    consumers.map(async (consumer) => ({
      consumer,
      lag: await api<Lag>(`/v1/streams/${enc(consumer.stream)}/consumers/${enc(consumer.name)}/lag`, { signal }).catch(
        () => null,
      ),
    })),
  );
}

/** datetime-local (local time) → RFC 3339 */
export function isoOfLocal(local: string): string | undefined {
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function NewConsumer({ stream, onCreated }: { stream: string; onCreated: () => void }) {
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const types = text('types')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const body: Record<string, unknown> = { name: text('name'), start: { from: text('start') } };
    if (types.length > 0) body.types = types;
    if (await action.run(() => api(`/v1/streams/${enc(stream)}/consumers`, { method: 'POST', body }))) {
      form.reset();
      onCreated();
    }
  };
  return (
    <form class="filters new-consumer" onSubmit={submit} aria-label="new consumer">
      <label>
        new consumer <input name="name" required maxLength={200} placeholder="billing" />
      </label>
      <label>
        types <input name="types" placeholder="all" />
      </label>
      <label>
        starting at
        <select name="start">
          <option value="end">the end (new events only)</option>
          <option value="beginning">the beginning</option>
        </select>
      </label>
      <button type="submit" disabled={action.busy}>
        Create consumer
      </button>
      <FieldError error={action.error} pointer="/name" />
      <ErrorNote error={action.error} />
    </form>
  );
}

function SeekInline({ consumer, action, onDone }: { consumer: Consumer; action: Action; onDone: () => void }) {
  const [mode, setMode] = useState('seq');
  const submit = async (e: Event) => {
    e.preventDefault();
    const value = String(new FormData(e.currentTarget as HTMLFormElement).get('to') ?? '').trim();
    const body =
      mode === 'seq' ? { from: 'seq', seq: Number(value) } : { from: 'time', time: isoOfLocal(value) ?? value };
    if (
      await action.run(() =>
        api(`/v1/streams/${enc(consumer.stream)}/consumers/${enc(consumer.name)}/seek`, { method: 'POST', body }),
      )
    )
      onDone();
  };
  return (
    <form class="seek-consumer" onSubmit={submit}>
      <select aria-label="seek by" value={mode} onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value)}>
        <option value="seq">seq</option>
        <option value="time">time</option>
      </select>
      {mode === 'seq' ? (
        <input name="to" type="number" min="1" required aria-label="seek to seq" />
      ) : (
        <input name="to" type="datetime-local" step="1" required aria-label="seek to time" />
      )}
      <button type="submit" class="small" disabled={action.busy}>
        Seek
      </button>
    </form>
  );
}

export function ConsumersTable({
  streams,
  showStream = true,
  manage = false,
}: {
  streams: string[];
  showStream?: boolean;
  manage?: boolean;
}) {
  const rows = usePoll((signal) => rowsOf(streams, signal), [streams.join('\n')], manage ? 2000 : 5000);
  const action = useAction();
  const [deleting, setDeleting] = useState<Consumer | undefined>(undefined);
  const reset = async (c: Consumer) => {
    if (
      await action.run(() =>
        api(`/v1/streams/${enc(c.stream)}/consumers/${enc(c.name)}/seek`, {
          method: 'POST',
          body: { from: 'beginning' },
        }),
      )
    )
      rows.reload();
  };
  const remove = async (c: Consumer) => {
    const done = await action.run(async () => {
      await api(`/v1/streams/${enc(c.stream)}/consumers/${enc(c.name)}`, { method: 'DELETE' });
      return true;
    });
    if (done) {
      setDeleting(undefined);
      rows.reload();
    }
  };
  const form = manage && streams.length === 1 ? <NewConsumer stream={streams[0]!} onCreated={rows.reload} /> : null;
  if (rows.error) return <ErrorNote error={rows.error} />;
  if (!rows.data) return <p class="muted">Loading…</p>;
  return (
    <div class="consumers-panel">
      {form}
      <ErrorNote error={action.error} />
      {rows.data.length === 0 ? (
        <p class="muted">No consumers.</p>
      ) : (
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
              {manage ? <th>actions</th> : null}
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
                <td class="num committed">{count(lag?.committedSeq ?? consumer.committedSeq)}</td>
                <td class={`num lag${lag && lag.pending > 0 ? ' behind' : ''}`}>{lag ? count(lag.pending) : '—'}</td>
                <td class="num">{lag ? count(lag.leased) : '—'}</td>
                <td class="num">{duration(lag?.oldestUnackedAgeMs ?? null)}</td>
                <td>{consumer.deadLetterStream ?? <span class="muted">none</span>}</td>
                {manage ? (
                  <td class="row-actions">
                    <SeekInline consumer={consumer} action={action} onDone={rows.reload} />
                    <button
                      type="button"
                      class="small reset"
                      disabled={action.busy}
                      onClick={() => void reset(consumer)}
                      title="seek to the beginning: everything is delivered again"
                    >
                      Reset
                    </button>
                    <button
                      type="button"
                      class="small danger"
                      disabled={action.busy}
                      onClick={() => setDeleting(consumer)}
                    >
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deleting ? (
        <ConfirmDialog
          title={`Delete consumer ${deleting.name}?`}
          confirmLabel={`Delete ${deleting.name}`}
          busy={action.busy}
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        >
          <p>
            Goes with it: its position (committed at seq {deleting.committedSeq}) and its leases. The events stay in{' '}
            <code>{deleting.stream}</code>.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
