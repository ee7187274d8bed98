/**
 * The event browser: pages of a stream's events from a seq or a time, by type, and by content
 * (`filter=`, a JSONata condition the server evaluates, as a sink's filter).
 */
import { useState } from 'preact/hooks';
import { api, enc, type RivuletEvent, type Stream } from '../api';
import { curlGet } from '../curl';
import { usePoll } from '../use-poll';
import { CopyBox } from './copy-box';
import { ErrorNote } from './error-note';
import { EventDetail, EventRows } from './event-detail';

interface Query {
  after?: number;
  from?: string;
  to?: string;
  type?: string;
  filter?: string;
  limit: number;
  cursor?: string;
}

interface Page {
  events: RivuletEvent[];
  next: string | null;
}

function pathOf(stream: string, q: Query): string {
  const params = new URLSearchParams();
  if (q.cursor) params.set('cursor', q.cursor);
  else {
    if (q.after !== undefined) params.set('after', String(q.after));
    if (q.from) params.set('from', q.from);
    if (q.to) params.set('to', q.to);
    if (q.type) params.set('type', q.type);
    if (q.filter) params.set('filter', q.filter);
  }
  params.set('limit', String(q.limit));
  return `/v1/streams/${enc(stream)}/events?${params}`;
}

/** datetime-local input (local time) → RFC 3339 */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function EventBrowser({ stream }: { stream: Stream }) {
  const latest = (limit: number): Query => ({ after: Math.max(0, stream.stats.lastSeq - limit), limit });
  const [query, setQuery] = useState<Query>(() => latest(50));
  const [selected, setSelected] = useState<RivuletEvent | undefined>(undefined);
  const page = usePoll(
    (signal) => api<Page>(pathOf(stream.name, query), { signal }),
    [stream.name, JSON.stringify(query)],
    0,
  );

  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    const seq = text('seq');
    setQuery({
      after: seq ? Math.max(0, Number(seq) - 1) : undefined,
      from: isoOf(text('from')),
      to: isoOf(text('to')),
      type: text('type') || undefined,
      filter: text('filter') || undefined,
      limit: Number(text('limit')) || 50,
    });
  };

  const events = page.data?.events ?? [];
  return (
    <div class="browser">
      <form class="filters" onSubmit={submit}>
        <label>
          from seq <input name="seq" type="number" min="1" placeholder="1" />
        </label>
        <label>
          from time <input name="from" type="datetime-local" step="1" />
        </label>
        <label>
          to <input name="to" type="datetime-local" step="1" />
        </label>
        <label>
          types <input name="type" placeholder="a.b, c.d" />
        </label>
        <label class="filter-field">
          content{' '}
          <input
            name="filter"
            placeholder='data.amount > 100 and $contains(data.order, "A-")'
            size={36}
            aria-describedby="filter-help"
          />
        </label>
        <label>
          limit
          <select name="limit" value={String(query.limit)}>
            <option>20</option>
            <option>50</option>
            <option>100</option>
            <option>500</option>
          </select>
        </label>
        <button type="submit">Show</button>
        <button type="button" onClick={() => setQuery(latest(query.limit))}>
          Latest
        </button>
        <button type="button" onClick={page.reload}>
          Refresh
        </button>
      </form>
      <p id="filter-help" class="muted small-text">
        Content is a JSONata condition over the event (<code>type</code>, <code>source</code>, <code>time</code>,{' '}
        <code>data</code>, …), as in a sink's filter; the server searches up to 10,000 events per page. Times are local.
      </p>
      <ErrorNote error={page.error} />
      <div class="browser-body">
        <div class="browser-list">
          {page.data && events.length === 0 ? (
            <p class="muted">
              {page.data.next
                ? 'No matches in the events searched so far: search on with the next page.'
                : 'No events match.'}
            </p>
          ) : (
            <EventRows events={events} selected={selected?.id} onSelect={setSelected} />
          )}
          <div class="pager">
            <span class="muted">
              {events.length > 0 ? `seq ${events[0]!.seq}–${events[events.length - 1]!.seq}` : ''}
            </span>
            {page.data?.next ? (
              <button type="button" onClick={() => setQuery({ limit: query.limit, cursor: page.data!.next! })}>
                Next page
              </button>
            ) : null}
          </div>
          <CopyBox label="This page as curl" text={curlGet(pathOf(stream.name, query))} />
        </div>
        {selected ? <EventDetail event={selected} onClose={() => setSelected(undefined)} /> : null}
      </div>
    </div>
  );
}
