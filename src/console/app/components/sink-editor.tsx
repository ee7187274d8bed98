/**
 * Creating or changing a sink, with a dry run before saving: a real event of one of its
 * streams (the latest, or a chosen seq) through the filter, the transform and the target's
 * mapping, by the server's own code (`POST /v1/sinks/dry-run`); nothing is sent or saved.
 * Secrets of an edited sink read "[redacted]": left so, they keep their stored values.
 */
import { useState } from 'preact/hooks';
import { api, enc, type Sink, type SinkDryRunAnswer } from '../api';
import { href } from '../router';
import { useAction } from '../use-action';
import { FieldError, OtherError } from './field-error';
import { JsonView } from './json-view';
import { FormActions } from './form-actions';

type DryRunAnswer = SinkDryRunAnswer;

/** the http target's preview (src/delivery/targets/http-target.ts) */
interface RequestPreview {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string | null;
  notes?: string[];
}

interface Definition {
  id?: string;
  description?: string;
  streams: string[];
  filter: { types?: string[]; condition?: string } | null;
  transform: string | null;
  target: Record<string, unknown>;
}

const NEW_TARGET = '{\n  "kind": "http",\n  "method": "POST",\n  "url": "https://example.com/hooks/orders"\n}';

class FormError extends Error {
  constructor(
    message: string,
    readonly pointer: string,
  ) {
    super(message);
  }
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

function definitionOf(form: HTMLFormElement, editing: boolean): Definition {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? '').trim();
  const streams = list(text('streams'));
  if (streams.length === 0) throw new FormError('name at least one stream', '/streams');
  const types = list(text('types'));
  const condition = text('condition');
  const filter =
    types.length > 0 || condition
      ? { ...(types.length > 0 ? { types } : {}), ...(condition ? { condition } : {}) }
      : null;
  let target: unknown;
  try {
    target = JSON.parse(text('target'));
  } catch (err) {
    throw new FormError(`the target is not JSON: ${(err as Error).message}`, '/target');
  }
  if (typeof target !== 'object' || target === null || Array.isArray(target))
    throw new FormError('the target must be a JSON object with a "kind"', '/target');
  return {
    ...(editing || !text('id') ? {} : { id: text('id') }),
    description: text('description'),
    streams,
    filter,
    transform: text('transform') || null,
    target: target as Record<string, unknown>,
  };
}

function DryRunResult({ answer }: { answer: DryRunAnswer }) {
  const d = answer.delivery as RequestPreview | null;
  return (
    <div class="dry-run" data-matched={String(answer.matched)}>
      <h4>
        Event #{answer.event.seq} of <a href={href('streams', answer.event.stream)}>{answer.event.stream}</a>{' '}
        <code>{answer.event.type}</code>
      </h4>
      <details>
        <summary>the event</summary>
        <JsonView value={answer.event} />
      </details>
      <h4>Filter</h4>
      <p class={answer.matched ? 'ok-text' : 'muted'} data-step="filter">
        {answer.matched ? 'passes' : 'filtered out'}
        {answer.filterError ? `: ${answer.filterError}` : ''}
      </p>
      {answer.matched ? (
        <>
          <h4>Transform</h4>
          {answer.transformError ? (
            <p class="error" data-step="transform">
              {answer.transformError}
            </p>
          ) : (
            <div data-step="transform">
              <JsonView value={answer.payload} />
            </div>
          )}
        </>
      ) : null}
      {d ? (
        <>
          <h4>Request</h4>
          <pre class="copy-text" data-step="request">
            {`${d.method ?? ''} ${d.url ?? ''}\n${Object.entries(d.headers ?? {})
              .map(([k, v]) => `${k}: ${v}`)
              .join('\n')}\n\n${d.body ?? ''}`}
          </pre>
          {d.notes && d.notes.length > 0 ? <p class="muted small-text">{d.notes.join(' · ')}</p> : null}
        </>
      ) : null}
      {answer.deliveryError ? (
        <p class="error" data-step="request">
          {answer.deliveryError}
        </p>
      ) : null}
    </div>
  );
}

export function SinkEditor({
  sink,
  onSaved,
  onCancel,
}: {
  sink?: Sink;
  onSaved: (s: Sink) => void;
  onCancel?: () => void;
}) {
  const action = useAction();
  const [local, setLocal] = useState<FormError | undefined>(undefined);
  const [dryRun, setDryRun] = useState<DryRunAnswer | undefined>(undefined);
  const filter = (sink?.filter ?? null) as Definition['filter'];
  const error = local ?? action.error;

  const read = (form: HTMLFormElement): Definition | undefined => {
    try {
      const d = definitionOf(form, sink !== undefined);
      setLocal(undefined);
      return d;
    } catch (err) {
      setLocal(err as FormError);
      return undefined;
    }
  };

  const tryIt = async (e: Event) => {
    const form = (e.currentTarget as HTMLButtonElement).form!;
    const d = read(form);
    if (!d) return;
    const data = new FormData(form);
    const seq = Number(String(data.get('trySeq') ?? '').trim());
    const stream = String(data.get('tryStream') ?? '').trim();
    const { id: _id, description: _description, ...definition } = d;
    setDryRun(undefined);
    const answer = await action.run(() =>
      api<DryRunAnswer>('/v1/sinks/dry-run', {
        method: 'POST',
        body: {
          ...(sink ? { id: sink.id } : {}),
          ...definition,
          event: { ...(stream ? { stream } : {}), ...(seq > 0 ? { seq } : {}) },
        },
      }),
    );
    if (answer) setDryRun(answer);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const d = read(e.currentTarget as HTMLFormElement);
    if (!d) return;
    const saved = await action.run(() =>
      sink
        ? api<Sink>(`/v1/sinks/${enc(sink.id)}`, { method: 'PATCH', body: { ...d, version: sink.version } })
        : api<Sink>('/v1/sinks', {
            method: 'POST',
            body: {
              ...d,
              start: { from: String(new FormData(e.currentTarget as HTMLFormElement).get('start') ?? 'end') },
            },
          }),
    );
    if (saved) onSaved(saved);
  };

  const pointers = ['/id', '/streams', '/filter', '/transform', '/target', '/event'];
  return (
    <form class="panel sink-editor" onSubmit={save} aria-label={sink ? 'sink settings' : 'new sink'}>
      <h3>{sink ? `Change ${sink.id}` : 'New sink'}</h3>
      {sink ? null : (
        <>
          <label for="sink-id">id</label>
          <div>
            <input id="sink-id" name="id" maxLength={100} placeholder="orders-hook (blank: a random id)" />
            <FieldError error={error} pointer="/id" />
          </div>
        </>
      )}
      <label for="sink-description">description</label>
      <input id="sink-description" name="description" maxLength={2000} defaultValue={sink?.description ?? ''} />
      <label for="sink-streams">streams</label>
      <div>
        <input
          id="sink-streams"
          name="streams"
          required
          placeholder="orders, returns"
          defaultValue={sink?.streams.join(', ') ?? ''}
        />
        <FieldError error={error} pointer="/streams" />
      </div>
      <label for="sink-types">event types</label>
      <div>
        <input
          id="sink-types"
          name="types"
          placeholder="all (or order.*, return.created)"
          defaultValue={filter?.types?.join(', ') ?? ''}
        />
        <FieldError error={error} pointer="/filter/types" />
      </div>
      <label for="sink-condition">filter</label>
      <div>
        <input
          id="sink-condition"
          name="condition"
          placeholder="data.amount > 100 (JSONata over the event)"
          defaultValue={filter?.condition ?? ''}
        />
        <FieldError error={error} pointer="/filter/condition" />
      </div>
      <label for="sink-transform">transform</label>
      <div>
        <textarea
          id="sink-transform"
          name="transform"
          rows={3}
          spellcheck={false}
          placeholder='{"order": data.order, "total": data.amount} (blank: the event&apos;s data)'
          defaultValue={sink?.transform ?? ''}
        />
        <FieldError error={error} pointer="/transform" />
      </div>
      <label for="sink-target">target</label>
      <div>
        <textarea
          id="sink-target"
          name="target"
          rows={7}
          spellcheck={false}
          defaultValue={sink ? JSON.stringify(sink.target, null, 2) : NEW_TARGET}
        />
        <FieldError error={error} pointer="/target" />
      </div>
      {sink ? null : (
        <>
          <label for="sink-start">start at</label>
          <select id="sink-start" name="start">
            <option value="end">the end (new events only)</option>
            <option value="beginning">the beginning</option>
          </select>
        </>
      )}
      <label for="sink-try-stream">try on</label>
      <div class="units">
        <input id="sink-try-stream" name="tryStream" placeholder="first stream" aria-label="stream to try on" />
        <input name="trySeq" type="number" min="1" placeholder="latest seq" aria-label="seq to try on" />
        <button type="button" class="dry-run-button" disabled={action.busy} onClick={(e) => void tryIt(e)}>
          Dry run
        </button>
        <FieldError error={error} pointer="/event" />
      </div>
      {dryRun ? (
        <div class="wide">
          <DryRunResult answer={dryRun} />
        </div>
      ) : null}
      <FormActions busy={action.busy} label={sink ? 'Save' : 'Create sink'} onCancel={onCancel} />
      <div class="result">
        <OtherError error={error} pointers={pointers} />
      </div>
    </form>
  );
}
