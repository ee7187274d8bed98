/**
 * The overview: one section per kind of thing the server runs. A new kind is one component
 * added to `sections`.
 */
import type { ComponentType } from 'preact';
import { useState } from 'preact/hooks';
import { api, type RateSeries, type Stream } from '../api';
import { ConsumersTable } from '../components/consumers-table';
import { ErrorNote } from '../components/error-note';
import { StreamForm } from '../components/stream-form';
import { RateChart } from '../components/rate-chart';
import { SinksTable } from '../components/sinks-table';
import { bytes, count, rate } from '../format';
import { href } from '../router';
import { usePoll } from '../use-poll';
import { Time } from '../components/time';

interface Overview {
  streams: Stream[];
  rates: Map<string, RateSeries>;
}

async function loadOverview(signal: AbortSignal): Promise<Overview> {
  const [list, rates] = await Promise.all([
    api<{ streams: Stream[] }>('/v1/streams?limit=1000', { signal }),
    api<{ streams: RateSeries[] }>('/v1/rates?window=3600&step=60', { signal }),
  ]);
  return { streams: list.streams, rates: new Map(rates.streams.map((r) => [r.stream, r])) };
}

/** the server's own streams (a sink's attempt log, a rule's actions): `_sink.*`, `_rule.*` */
export function isInternal(name: string): boolean {
  return name.startsWith('_');
}

const SHOW_INTERNAL = 'rivulet.showInternal';

/** events/s over the last full minute */
function lastMinute(series: RateSeries | undefined): number {
  return series?.perSecond[series.perSecond.length - 2] ?? 0;
}

function StreamsSection({ data }: { data: Overview }) {
  const [creating, setCreating] = useState(false);
  const [internal, setInternal] = useState(() => localStorage.getItem(SHOW_INTERNAL) === '1');
  const hidden = data.streams.filter((s) => isInternal(s.name)).length;
  const streams = internal ? data.streams : data.streams.filter((s) => !isInternal(s.name));
  const toggle = () => {
    localStorage.setItem(SHOW_INTERNAL, internal ? '0' : '1');
    setInternal(!internal);
  };
  return (
    <section>
      <div class="toolbar">
        <h2>Streams</h2>
        <label class="muted small-text">
          <input type="checkbox" class="show-internal" checked={internal} onChange={toggle} /> show internal streams
          {hidden > 0 ? ` (${hidden})` : ''}
        </label>
        <button type="button" class="new-stream" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          New stream
        </button>
      </div>
      {creating ? (
        <StreamForm
          onSaved={(s) => {
            setCreating(false);
            location.hash = href('streams', s.name);
          }}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      {streams.length === 0 ? (
        <p class="muted">No streams yet (or none this key may see).</p>
      ) : (
        <div class="table-wrap">
          <table class="streams">
            <thead>
              <tr>
                <th>stream</th>
                <th class="num">events</th>
                <th>last hour</th>
                <th class="num">last full minute</th>
                <th class="num">bytes</th>
                <th>last event</th>
              </tr>
            </thead>
            <tbody>
              {streams.map((s) => {
                const series = data.rates.get(s.name);
                return (
                  <tr key={s.name} data-stream={s.name}>
                    <td>
                      <a href={href('streams', s.name)}>{s.name}</a>
                      {s.description ? <div class="muted small-text">{s.description}</div> : null}
                    </td>
                    <td class="num count">{count(s.stats.count)}</td>
                    <td>
                      <RateChart series={series} width={160} height={28} />
                    </td>
                    <td class="num">{rate(lastMinute(series))}</td>
                    <td class="num">{bytes(s.stats.bytes)}</td>
                    <td>
                      <Time iso={s.stats.lastTime} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted small-text">Rates are counted by this server process since it started.</p>
    </section>
  );
}

function ConsumersSection({ data }: { data: Overview }) {
  return (
    <section>
      <h2>Consumers</h2>
      <ConsumersTable
        streams={data.streams
          .filter((s) => !isInternal(s.name))
          .slice(0, 100)
          .map((s) => s.name)}
      />
    </section>
  );
}

function SinksSection() {
  return (
    <section>
      <h2>Sinks</h2>
      <SinksTable />
    </section>
  );
}

/** the overview's sections, in order; each gets the streams and rates loaded once per refresh */
export const sections: ComponentType<{ data: Overview }>[] = [StreamsSection, ConsumersSection, SinksSection];

export function OverviewPage() {
  const overview = usePoll(loadOverview, [], 2000);
  return (
    <div class="overview">
      <ErrorNote error={overview.error} />
      {overview.data ? (
        sections.map((Section, i) => <Section key={i} data={overview.data!} />)
      ) : (
        <p class="muted">Loading…</p>
      )}
    </div>
  );
}
