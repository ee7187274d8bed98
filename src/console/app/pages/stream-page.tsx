/**
 * A stream: its figures and rate, then tabs. A new tab is one entry
 * in `tabs`; the tab is part of the address (#/streams/orders/live).
 */
import type { ComponentChild } from 'preact';
import { api, enc, type RateSeries, type Stream } from '../api';
import { ConsumersTable } from '../components/consumers-table';
import { ErrorNote } from '../components/error-note';
import { EventBrowser } from '../components/event-browser';
import { LiveTail } from '../components/live-tail';
import { RateChart } from '../components/rate-chart';
import { ProduceForm } from '../components/produce-form';
import { SchemasPanel } from '../components/schemas-panel';
import { SinksTable } from '../components/sinks-table';
import { StreamSettings } from '../components/stream-settings';
import { bytes, chartWidth, count, retentionText } from '../format';
import { href } from '../router';
import { usePoll } from '../use-poll';
import { Time } from '../components/time';

interface Tab {
  id: string;
  label: string;
  render: (stream: Stream, reload: () => void) => ComponentChild;
}

export const tabs: Tab[] = [
  { id: 'events', label: 'Events', render: (s) => <EventBrowser key={s.name} stream={s} /> },
  { id: 'live', label: 'Live tail', render: (s) => <LiveTail stream={s.name} /> },
  { id: 'schemas', label: 'Schemas', render: (s) => <SchemasPanel stream={s.name} /> },
  { id: 'produce', label: 'Produce', render: (s, reload) => <ProduceForm stream={s} onProduced={reload} /> },
  {
    id: 'consumers',
    label: 'Consumers',
    render: (s) => <ConsumersTable streams={[s.name]} showStream={false} manage />,
  },
  { id: 'sinks', label: 'Sinks', render: (s) => <SinksTable stream={s.name} /> },
  { id: 'settings', label: 'Settings', render: (s, reload) => <StreamSettings stream={s} onChanged={reload} /> },
];

export function StreamPage({ name, tab }: { name: string; tab: string | undefined }) {
  const stream = usePoll((signal) => api<Stream>(`/v1/streams/${enc(name)}`, { signal }), [name], 3000);
  const rates = usePoll(
    (signal) => api<RateSeries>(`/v1/streams/${enc(name)}/rates?window=3600&step=60`, { signal }),
    [name],
    10_000,
  );
  const current = tabs.find((t) => t.id === tab) ?? tabs[0]!;
  const s = stream.data;
  return (
    <div class="stream-page">
      <h2>
        <a href="#/">Streams</a> / {name}
      </h2>
      <ErrorNote error={stream.error} />
      {s ? (
        <>
          {s.description ? <p>{s.description}</p> : null}
          <div class="stream-head">
            <dl class="figures">
              <dt>events</dt>
              <dd data-figure="count">{count(s.stats.count)}</dd>
              <dt>seqs</dt>
              <dd>{s.stats.count > 0 ? `${s.stats.firstSeq}–${s.stats.lastSeq}` : '—'}</dd>
              <dt>bytes</dt>
              <dd>{bytes(s.stats.bytes)}</dd>
              <dt>last event</dt>
              <dd>
                <Time iso={s.stats.lastTime} />
              </dd>
              <dt>retention</dt>
              <dd data-figure="retention">{retentionText(s.retention)}</dd>
              <dt>owner</dt>
              <dd>{s.owner}</dd>
            </dl>
            <RateChart series={rates.data} width={chartWidth()} height={150} axes />
          </div>
          <nav class="tabs">
            {tabs.map((t) => (
              <a key={t.id} href={href('streams', name, t.id)} class={t === current ? 'active' : ''}>
                {t.label}
              </a>
            ))}
          </nav>
          <div class="tab-body">{current.render(s, stream.reload)}</div>
        </>
      ) : stream.error ? null : (
        <p class="muted">Loading…</p>
      )}
    </div>
  );
}
