/**
 * Produce a test event: a type, an optional source and the data as JSON. The data is parsed in
 * the page, then checked against the stream's schema by the server's dry run
 * (`POST /v1/streams/{name}/validate`) before anything is sent; a fault is shown under the
 * editor and selected in it (the line its JSON pointer names).
 */
import { useRef, useState } from 'preact/hooks';
import { api, enc, type Stream } from '../api';
import { href } from '../router';
import { useAction } from '../use-action';
import { ErrorNote } from './error-note';

interface DryRun {
  valid: boolean;
  validation: string;
  events: {
    index: number;
    type: string;
    valid: boolean;
    schemaVersion: number | null;
    error?: { code: string; detail: string; pointer?: string };
  }[];
}

interface Fault {
  message: string;
  /** character range in the editor to select */
  at?: [number, number];
}

/** where `"key":` of each pointer segment is, searched in order: good enough to put the cursor near a fault */
export function locate(text: string, pointer: string): [number, number] | undefined {
  let from = 0;
  let found: [number, number] | undefined;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) continue;
    const i = text.indexOf(`"${key}"`, from);
    if (i < 0) break;
    found = [i, i + key.length + 2];
    from = i + key.length + 2;
  }
  return found;
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

export function ProduceForm({ stream, onProduced }: { stream: Stream; onProduced: () => void }) {
  const editor = useRef<HTMLTextAreaElement>(null);
  const [fault, setFault] = useState<Fault | undefined>(undefined);
  const [note, setNote] = useState<{ text: string; seq?: number } | undefined>(undefined);
  const action = useAction();

  const show = (f: Fault) => {
    setFault(f);
    const area = editor.current;
    if (area && f.at) {
      area.focus();
      area.setSelectionRange(f.at[0], f.at[1]);
    }
  };

  /** the event, when it parses and the server says it would be accepted */
  const checked = async (form: HTMLFormElement): Promise<Record<string, unknown> | undefined> => {
    const fields = new FormData(form);
    const text = String(fields.get('data') ?? '');
    setFault(undefined);
    setNote(undefined);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      const position = /position (\d+)/.exec((err as Error).message)?.[1];
      const at = position === undefined ? undefined : Number(position);
      show({
        message: `Not JSON${at === undefined ? '' : ` (line ${lineOf(text, at)})`}: ${(err as Error).message}`,
        ...(at === undefined ? {} : { at: [at, at + 1] as [number, number] }),
      });
      return undefined;
    }
    const event: Record<string, unknown> = { type: String(fields.get('type') ?? '').trim(), data };
    const source = String(fields.get('source') ?? '').trim();
    if (source) event.source = source;
    const answer = await action.run(() =>
      api<DryRun>(`/v1/streams/${enc(stream.name)}/validate`, { method: 'POST', body: event }),
    );
    if (!answer) return undefined;
    const outcome = answer.events[0];
    if (!answer.valid && outcome?.error) {
      const pointer = outcome.error.pointer ?? '';
      const at = pointer.startsWith('/data') ? locate(text, pointer.slice('/data'.length)) : undefined;
      show({ message: `${at ? `line ${lineOf(text, at[0])}: ` : ''}${outcome.error.detail}`, ...(at ? { at } : {}) });
      return undefined;
    }
    setNote({
      text: outcome?.schemaVersion
        ? `Valid against schema version ${outcome.schemaVersion} of ${outcome.type}.`
        : `Valid (no schema for this type; the stream's validation is ${answer.validation}).`,
    });
    return event;
  };

  const validate = async (e: Event) => {
    await checked((e.currentTarget as HTMLButtonElement).form!);
  };

  const produce = async (e: Event) => {
    e.preventDefault();
    const event = await checked(e.currentTarget as HTMLFormElement);
    if (!event) return;
    const answer = await action.run(() =>
      api<{ events: { seq: number }[] }>(`/v1/streams/${enc(stream.name)}/events`, { method: 'POST', body: event }),
    );
    if (answer) {
      const seq = answer.events[0]?.seq;
      setNote({ text: `Produced as seq ${seq}.`, ...(seq === undefined ? {} : { seq }) });
      onProduced();
    }
  };

  return (
    <form class="panel produce" onSubmit={produce} aria-label="produce an event">
      <label for="produce-type">type</label>
      <input id="produce-type" name="type" required maxLength={256} placeholder="order.placed" />
      <label for="produce-source">source</label>
      <input id="produce-source" name="source" placeholder="/console (optional)" />
      <label for="produce-data" class="wide">
        data (JSON)
      </label>
      <div class="wide">
        <textarea
          id="produce-data"
          name="data"
          ref={editor}
          rows={10}
          spellcheck={false}
          class={fault ? 'invalid' : ''}
          aria-invalid={fault ? 'true' : 'false'}
          aria-describedby="produce-fault"
          defaultValue={'{\n  \n}'}
          onInput={() => setFault(undefined)}
        />
        {fault ? (
          <p id="produce-fault" class="field-error" role="alert" data-fault>
            {fault.message}
          </p>
        ) : null}
      </div>
      <div class="actions">
        <button type="button" disabled={action.busy} onClick={(e) => void validate(e)}>
          Validate
        </button>
        <button type="submit" disabled={action.busy}>
          Produce
        </button>
        {note ? (
          <span class="ok-text" data-note="produce">
            {note.text}{' '}
            {note.seq !== undefined ? <a href={href('streams', stream.name, 'events')}>See it in the events</a> : null}
          </span>
        ) : null}
      </div>
      <div class="result">
        <ErrorNote error={action.error} />
      </div>
    </form>
  );
}
