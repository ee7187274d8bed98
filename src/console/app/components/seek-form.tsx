/** Moves a sink to the beginning, the end, a seq or a time (POST /v1/sinks/{id}/seek). */
import { useState } from 'preact/hooks';
import type { Sink } from '../api';

export function SeekForm({
  sink,
  busy,
  onSeek,
}: {
  sink: Sink;
  busy: boolean;
  onSeek: (body: Record<string, unknown>) => Promise<void>;
}) {
  const [from, setFrom] = useState('end');
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    const body: Record<string, unknown> = { from };
    if (from === 'seq') {
      body.seq = Number(text('seq'));
      if (sink.streams.length > 1) body.stream = text('stream');
    }
    if (from === 'time') {
      const ms = Date.parse(text('time'));
      body.time = Number.isNaN(ms) ? text('time') : new Date(ms).toISOString();
    }
    void onSeek(body);
  };
  return (
    <form class="filters seek" onSubmit={submit}>
      <label>
        seek to
        <select name="from" value={from} onChange={(e) => setFrom((e.currentTarget as HTMLSelectElement).value)}>
          <option value="beginning">beginning</option>
          <option value="end">end</option>
          <option value="seq">seq</option>
          <option value="time">time</option>
        </select>
      </label>
      {from === 'seq' && sink.streams.length > 1 ? (
        <select name="stream">
          {sink.streams.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      ) : null}
      {from === 'seq' ? <input name="seq" type="number" min="1" required placeholder="seq" /> : null}
      {from === 'time' ? <input name="time" type="datetime-local" step="1" required /> : null}
      <button type="submit" disabled={busy}>
        Seek
      </button>
    </form>
  );
}
