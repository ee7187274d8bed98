/**
 * A stream's settings tab: change its description and retention, or delete it after a
 * confirmation that names what goes with it (its events, its consumers and their positions)
 * and what stays (schemas, and the sinks reading it, which are left with nothing to read).
 */
import { useState } from 'preact/hooks';
import { api, enc, type Consumer, type Sink, type Stream } from '../api';
import { bytes, count } from '../format';
import { useAction } from '../use-action';
import { ConfirmDialog } from './confirm-dialog';
import { ErrorNote } from './error-note';
import { StreamForm } from './stream-form';

interface Dependents {
  /** the stream as it is now, for its current counts */
  stream: Stream;
  consumers: string[];
  sinks: string[];
  schemaTypes: string[];
}

async function dependentsOf(stream: string): Promise<Dependents> {
  const [now, consumers, sinks, schemas] = await Promise.all([
    api<Stream>(`/v1/streams/${enc(stream)}`),
    api<{ consumers: Consumer[] }>(`/v1/streams/${enc(stream)}/consumers?limit=1000`),
    api<{ sinks: Sink[] }>('/v1/sinks?limit=1000'),
    api<{ types: { type: string }[] }>(`/v1/streams/${enc(stream)}/schemas`),
  ]);
  return {
    stream: now,
    // a sink reads through a consumer of its own; those are named with the sinks
    consumers: consumers.consumers.map((c) => c.name).filter((n) => !n.startsWith('sink.')),
    sinks: sinks.sinks.filter((s) => s.streams.includes(stream)).map((s) => s.id),
    schemaTypes: schemas.types.map((t) => t.type),
  };
}

function names(list: string[]): string {
  return list.length > 8 ? `${list.slice(0, 8).join(', ')} and ${list.length - 8} more` : list.join(', ');
}

export function StreamSettings({ stream, onChanged }: { stream: Stream; onChanged: () => void }) {
  // the form edits the stream as it was when opened, so a refresh does not undo typing
  const [snapshot, setSnapshot] = useState(stream);
  const [saved, setSaved] = useState(false);
  const [confirm, setConfirm] = useState<Dependents | undefined>(undefined);
  const action = useAction();
  const askDelete = async () => {
    const found = await action.run(() => dependentsOf(stream.name));
    if (found) setConfirm(found);
  };
  const remove = async () => {
    const done = await action.run(async () => {
      await api(`/v1/streams/${enc(stream.name)}`, { method: 'DELETE' });
      return true;
    });
    if (done) {
      setConfirm(undefined);
      location.hash = '#/';
    }
  };
  return (
    <div class="stream-settings">
      <StreamForm
        key={snapshot.version}
        stream={snapshot}
        onSaved={(s) => {
          setSnapshot(s);
          setSaved(true);
          onChanged();
        }}
      />
      {saved ? (
        <p class="note" data-note="saved">
          Saved.
        </p>
      ) : null}
      <h3 class="spaced">Delete</h3>
      <p class="muted">Deleting a stream removes all its events at once; it cannot be undone.</p>
      <button type="button" class="danger delete-stream" disabled={action.busy} onClick={() => void askDelete()}>
        Delete stream…
      </button>
      <ErrorNote error={action.error} />
      {confirm ? (
        <ConfirmDialog
          title={`Delete stream ${stream.name}?`}
          confirmLabel={`Delete ${stream.name}`}
          busy={action.busy}
          onConfirm={() => void remove()}
          onCancel={() => setConfirm(undefined)}
        >
          <p>Goes with it:</p>
          <ul>
            <li data-goes="events">
              {count(confirm.stream.stats.count)} events ({bytes(confirm.stream.stats.bytes)})
            </li>
            <li data-goes="consumers">
              {confirm.consumers.length > 0
                ? `consumers ${names(confirm.consumers)}, with their positions and leases`
                : 'no consumers'}
            </li>
            {confirm.sinks.length > 0 ? (
              <li data-goes="sink-positions">the positions of the sinks reading it</li>
            ) : null}
          </ul>
          {confirm.sinks.length > 0 || confirm.schemaTypes.length > 0 ? (
            <>
              <p>Stays:</p>
              <ul>
                {confirm.sinks.length > 0 ? (
                  <li data-stays="sinks">sinks {names(confirm.sinks)} (left with nothing to read)</li>
                ) : null}
                {confirm.schemaTypes.length > 0 ? (
                  <li data-stays="schemas">
                    schemas of {names(confirm.schemaTypes)} (a stream created again with this name finds them)
                  </li>
                ) : null}
              </ul>
            </>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
