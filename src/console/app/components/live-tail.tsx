/**
 * The live tail: a subscription over SSE, authenticated with a short-lived live token in the
 * query (POST /v1/live-tokens), never the key. It reconnects after a drop from the last seq
 * it showed, with a fresh token.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc, type RivuletEvent } from '../api';
import { readSse } from '../sse-reader';
import { EventDetail, EventRows } from './event-detail';

const KEEP = 200;
const RECONNECT_MS = 2000;

type Status = 'stopped' | 'connecting' | 'live' | 'reconnecting';

export function LiveTail({ stream }: { stream: string }) {
  const [running, setRunning] = useState(true);
  const [types, setTypes] = useState('');
  const [status, setStatus] = useState<Status>('stopped');
  const [note, setNote] = useState('');
  const [events, setEvents] = useState<RivuletEvent[]>([]);
  const [received, setReceived] = useState(0);
  const [selected, setSelected] = useState<RivuletEvent | undefined>(undefined);
  const lastSeq = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (!running) {
      setStatus('stopped');
      return;
    }
    const controller = new AbortController();
    const { signal } = controller;
    const loop = async () => {
      while (!signal.aborted) {
        try {
          setStatus(lastSeq.current === undefined ? 'connecting' : 'reconnecting');
          const { token } = await api<{ token: string }>('/v1/live-tokens', {
            method: 'POST',
            body: { stream },
            signal,
          });
          const params = new URLSearchParams({ token });
          if (lastSeq.current !== undefined) params.set('after', String(lastSeq.current));
          if (types.trim()) params.set('type', types.trim());
          await readSse(
            `/v1/streams/${enc(stream)}/live?${params}`,
            signal,
            (m) => {
              if (m.event === 'rivulet:reset') {
                const reset = JSON.parse(m.data) as { firstSeq: number };
                setNote(`retention removed events before seq ${reset.firstSeq}`);
                return;
              }
              if (m.event === 'rivulet:error') {
                setNote((JSON.parse(m.data) as { message: string }).message);
                return;
              }
              const event = JSON.parse(m.data) as RivuletEvent;
              lastSeq.current = event.seq;
              setReceived((n) => n + 1);
              setEvents((list) => [event, ...list].slice(0, KEEP));
            },
            () => {
              setStatus('live');
              setNote('');
            },
          );
        } catch (err) {
          if (signal.aborted) return;
          setNote((err as Error).message);
        }
        if (signal.aborted) return;
        setStatus('reconnecting');
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    };
    void loop();
    return () => controller.abort();
  }, [stream, running, types]);

  return (
    <div class="live">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setTypes(String(new FormData(e.currentTarget).get('type') ?? ''));
        }}
      >
        <button type="button" onClick={() => setRunning(!running)}>
          {running ? 'Pause' : 'Resume'}
        </button>
        <label>
          types <input name="type" placeholder="all" />
        </label>
        <button type="submit">Apply</button>
        <button
          type="button"
          onClick={() => {
            setEvents([]);
            setSelected(undefined);
          }}
        >
          Clear
        </button>
        <span class={`status status-${status}`} data-status={status}>
          {status}
        </span>
        <span class="muted" data-received={received}>
          {received} received{lastSeq.current !== undefined ? `, last seq ${lastSeq.current}` : ''}
        </span>
      </form>
      {note ? <p class="note">{note}</p> : null}
      <p class="muted">Newest first; the last {KEEP} are kept. Only events produced from now on arrive.</p>
      <div class="browser-body">
        <div class="browser-list">
          <EventRows events={events} selected={selected?.id} onSelect={setSelected} />
        </div>
        {selected ? <EventDetail event={selected} onClose={() => setSelected(undefined)} /> : null}
      </div>
    </div>
  );
}
