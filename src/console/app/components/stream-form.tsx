/**
 * Creating a stream or changing one: name, description and retention in human units (days or
 * hours, MiB or GiB, a number of events). Empty means "no limit".
 */
import { useState } from 'preact/hooks';
import { api, enc, type Retention, type Stream } from '../api';
import { useAction } from '../use-action';
import { FieldError, OtherError } from './field-error';
import { FormActions } from './form-actions';

const AGE_UNITS = { hours: 3_600_000, days: 86_400_000 } as const;
const SIZE_UNITS = { MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;

/** a value in the largest unit it is a whole (or half) multiple of */
function split<U extends string>(value: number | null | undefined, units: Record<U, number>, fallback: U): [string, U] {
  if (!value) return ['', fallback];
  const names = Object.keys(units) as U[];
  for (const unit of [...names].reverse()) {
    const n = value / units[unit];
    if (n >= 1 && Number.isInteger(n * 2)) return [String(n), unit];
  }
  return [String(value / units[names[0]!]), names[0]!];
}

function amount(text: string, scale: number, pointer: string): number | null {
  if (text.trim() === '') return null;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new FormError(`${text} is not a positive number`, pointer);
  return Math.round(n * scale);
}

class FormError extends Error {
  constructor(
    message: string,
    readonly pointer: string,
  ) {
    super(message);
  }
}

export function StreamForm({
  stream,
  onSaved,
  onCancel,
}: {
  stream?: Stream;
  onSaved: (s: Stream) => void;
  onCancel?: () => void;
}) {
  const action = useAction();
  const [local, setLocal] = useState<FormError | undefined>(undefined);
  const [age, ageUnit]: [string, string] = split(stream?.retention.maxAgeMs, AGE_UNITS, 'days');
  const [size, sizeUnit]: [string, string] = split(stream?.retention.maxBytes, SIZE_UNITS, 'GiB');
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    let retention: Retention;
    try {
      retention = {
        maxAgeMs: amount(text('age'), AGE_UNITS[text('ageUnit') as keyof typeof AGE_UNITS], '/retention/maxAgeMs'),
        maxBytes: amount(text('size'), SIZE_UNITS[text('sizeUnit') as keyof typeof SIZE_UNITS], '/retention/maxBytes'),
        maxEvents: amount(text('events'), 1, '/retention/maxEvents'),
      };
      setLocal(undefined);
    } catch (err) {
      setLocal(err as FormError);
      return;
    }
    const body = { description: text('description'), retention };
    const saved = await action.run(() =>
      stream
        ? api<Stream>(`/v1/streams/${enc(stream.name)}`, {
            method: 'PATCH',
            body: { ...body, version: stream.version },
          })
        : api<Stream>('/v1/streams', { method: 'POST', body: { name: text('name'), ...body } }),
    );
    if (saved) onSaved(saved);
  };
  const localAt = (pointer: string) => (local?.pointer === pointer ? <p class="field-error">{local.message}</p> : null);
  return (
    <form class="panel stream-form" onSubmit={submit} aria-label={stream ? 'stream settings' : 'new stream'}>
      <h3>{stream ? `Settings of ${stream.name}` : 'New stream'}</h3>
      {stream ? null : (
        <>
          <label for="stream-name">name</label>
          <div>
            <input id="stream-name" name="name" required maxLength={200} placeholder="orders" autofocus />
            <FieldError error={action.error} pointer="/name" />
          </div>
        </>
      )}
      <label for="stream-description">description</label>
      <input id="stream-description" name="description" maxLength={2000} defaultValue={stream?.description ?? ''} />
      <label for="stream-age">keep events for</label>
      <div class="units">
        <input id="stream-age" name="age" type="number" min="0" step="any" placeholder="forever" defaultValue={age} />
        <select name="ageUnit" aria-label="age unit">
          <option selected={ageUnit === 'days'}>days</option>
          <option selected={ageUnit === 'hours'}>hours</option>
        </select>
        {localAt('/retention/maxAgeMs')}
        <FieldError error={action.error} pointer="/retention/maxAgeMs" />
      </div>
      <label for="stream-size">keep at most</label>
      <div class="units">
        <input
          id="stream-size"
          name="size"
          type="number"
          min="0"
          step="any"
          placeholder="no limit"
          defaultValue={size}
        />
        <select name="sizeUnit" aria-label="size unit">
          <option selected={sizeUnit === 'GiB'}>GiB</option>
          <option selected={sizeUnit === 'MiB'}>MiB</option>
        </select>
        {localAt('/retention/maxBytes')}
        <FieldError error={action.error} pointer="/retention/maxBytes" />
      </div>
      <label for="stream-events">and at most</label>
      <div class="units">
        <input
          id="stream-events"
          name="events"
          type="number"
          min="0"
          step="1"
          placeholder="no limit"
          defaultValue={String(stream?.retention.maxEvents ?? '')}
        />{' '}
        events
        {localAt('/retention/maxEvents')}
      </div>
      <FormActions busy={action.busy} label={stream ? 'Save' : 'Create stream'} onCancel={onCancel} />
      <div class="result">
        <OtherError error={action.error} pointers={['/name', '/retention/maxAgeMs', '/retention/maxBytes']} />
      </div>
    </form>
  );
}
