/** One event: its envelope and data as a JSON tree, and the curl that fetches it. */
import { enc, type RivuletEvent } from '../api';
import { curlGet } from '../curl';
import { CopyBox } from './copy-box';
import { JsonView } from './json-view';
import { Time } from './time';

export function EventDetail({ event, onClose }: { event: RivuletEvent; onClose: () => void }) {
  return (
    <section class="event-detail" aria-label="event">
      <header>
        <h3>
          #{event.seq} <code>{event.type}</code>
        </h3>
        <button type="button" class="small" onClick={onClose}>
          Close
        </button>
      </header>
      <JsonView value={event} />
      <CopyBox label="Copy as curl" text={curlGet(`/v1/streams/${enc(event.stream)}/events/${enc(event.id)}`)} />
    </section>
  );
}

export function EventRows({
  events,
  selected,
  onSelect,
}: {
  events: RivuletEvent[];
  selected: string | undefined;
  onSelect: (e: RivuletEvent) => void;
}) {
  return (
    <table class="events">
      <thead>
        <tr>
          <th>seq</th>
          <th>type</th>
          <th>time</th>
          <th>id</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr
            key={e.id}
            data-seq={e.seq}
            class={e.id === selected ? 'selected' : ''}
            tabIndex={0}
            aria-selected={e.id === selected}
            onClick={() => onSelect(e)}
            onKeyDown={(k) => {
              if (k.key === 'Enter' || k.key === ' ') {
                k.preventDefault();
                onSelect(e);
              }
            }}
          >
            <td class="num">{e.seq}</td>
            <td>
              <code>{e.type}</code>
            </td>
            <td>
              <Time iso={e.time} />
            </td>
            <td class="id">{e.id}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
