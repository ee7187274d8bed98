/**
 * `streams:` in a spec. Every setting is declarative: what the spec leaves out is the default
 * (no description, keep everything, any producer, no options), so removing a line resets it.
 * A stream that exists already is adopted when it belongs to the spec's owner; one of another
 * owner is refused when the pipeline runs.
 */
import { RivuletError } from '../../../kernel/errors.js';
import type { JsonObject, JsonValue } from '../../../kernel/envelope.js';
import { assertUserStreamName } from '../../streams/internal-streams.js';
import { assertStreamUnmanaged, withManagedOptions } from '../../streams/stream-management.js';
import { assertStreamName } from '../../streams/stream-name.js';
import type { StreamRecord } from '../../../store/port.js';
import { canonicalJson } from '../canonical-json.js';
import type { ApplyOutcome, Diff, KindContext, SpecResourceKind } from '../resource-kind.js';
import type { FieldChange } from '../revision-model.js';
import { isPlainObject, onlyFields, specInvalid } from '../spec-invalid.js';
import { keepWriteMode } from '../../../kernel/write-mode.js';

export interface StreamSpec extends JsonObject {
  name: string;
  description: string;
  retention: { maxAgeMs?: number; maxEvents?: number; maxBytes?: number };
  exclusiveProducer: boolean;
  options: JsonObject;
}

const FIELDS = ['name', 'description', 'retention', 'exclusiveProducer', 'options'] as const;
const RETENTION = ['maxAgeMs', 'maxEvents', 'maxBytes'] as const;

function parse(entry: unknown, pointer: string): StreamSpec {
  if (!isPlainObject(entry)) throw specInvalid('a stream is an object with at least a "name"', pointer);
  onlyFields(entry, FIELDS, pointer);
  if (typeof entry.name !== 'string') throw specInvalid('"name" is required and is a string', `${pointer}/name`);
  try {
    assertStreamName(entry.name);
    assertUserStreamName(entry.name, `${pointer}/name`);
  } catch (err) {
    if (err instanceof RivuletError) throw specInvalid(err.message, `${pointer}/name`);
    throw err;
  }
  if (entry.description !== undefined && (typeof entry.description !== 'string' || entry.description.length > 2000)) {
    throw specInvalid('"description" is a string of at most 2000 characters', `${pointer}/description`);
  }
  const retention: StreamSpec['retention'] = {};
  if (entry.retention !== undefined && entry.retention !== null) {
    if (!isPlainObject(entry.retention)) throw specInvalid('"retention" is an object', `${pointer}/retention`);
    onlyFields(entry.retention, RETENTION, `${pointer}/retention`);
    for (const field of RETENTION) {
      const value = entry.retention[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
        throw specInvalid('a positive integer (or null for no limit)', `${pointer}/retention/${field}`);
      retention[field] = value;
    }
  }
  if (entry.exclusiveProducer !== undefined && typeof entry.exclusiveProducer !== 'boolean')
    throw specInvalid('"exclusiveProducer" is true or false', `${pointer}/exclusiveProducer`);
  if (entry.options !== undefined && !isPlainObject(entry.options))
    throw specInvalid('"options" is an object', `${pointer}/options`);
  return {
    name: entry.name,
    description: (entry.description as string | undefined) ?? '',
    retention,
    exclusiveProducer: (entry.exclusiveProducer as boolean | undefined) ?? false,
    options: (entry.options as JsonObject | undefined) ?? {},
  };
}

function settingsOf(record: StreamRecord): Omit<StreamSpec, 'name'> {
  const retention: StreamSpec['retention'] = {};
  for (const field of RETENTION) {
    const value = record.retention[field];
    if (typeof value === 'number') retention[field] = value;
  }
  return {
    description: record.description,
    retention,
    exclusiveProducer: record.exclusiveProducer,
    options: record.options,
  };
}

function diff(desired: StreamSpec | null, current: StreamRecord | null): Diff {
  // okdata's streams and the internal streams of sinks and rules keep the settings their owner gave
  if (desired && current) assertStreamUnmanaged(current, 'change');
  // settings a dialect keeps (the Durable Streams mount's) cannot be declared, and are kept as they are
  if (desired) desired = { ...desired, options: withManagedOptions(current, desired.options, desired.name) };
  if (!desired)
    return current
      ? { action: 'delete', changes: [{ path: '', from: current.name }] }
      : { action: 'unchanged', changes: [] };
  const want = { ...desired } as Partial<StreamSpec>;
  delete want.name;
  if (!current) {
    return {
      action: 'create',
      changes: Object.entries(want)
        .filter(([, v]) => !isEmpty(v))
        .map(([k, v]) => ({ path: `/${k}`, to: v as JsonValue })),
    };
  }
  // a spec that leaves the write mode out keeps the stream's (it is fixed at creation)
  if (want.options !== undefined) want.options = keepWriteMode(want.options, current.options);
  const have = settingsOf(current) as Record<string, JsonValue>;
  const changes: FieldChange[] = [];
  for (const [field, value] of Object.entries(want) as [string, JsonValue][]) {
    if (canonicalJson(value) !== canonicalJson(have[field]))
      changes.push({ path: `/${field}`, from: have[field]!, to: value });
  }
  return { action: changes.length > 0 ? 'update' : 'unchanged', changes };
}

function isEmpty(v: unknown): boolean {
  return v === '' || v === false || (isPlainObject(v) && Object.keys(v).length === 0);
}

async function statsOf(name: string, ctx: KindContext): Promise<JsonObject> {
  const s = await ctx.store.events.stats(name);
  return { bytes: s.bytes, count_of_rows: s.count };
}

async function apply(desired: StreamSpec, current: StreamRecord | null, ctx: KindContext): Promise<ApplyOutcome> {
  const options = withManagedOptions(current, desired.options, desired.name);
  const settings = {
    description: desired.description,
    retention: desired.retention,
    exclusiveProducer: desired.exclusiveProducer,
    options,
  };
  if (!current) {
    await ctx.streams.create({ name: desired.name, ...settings }, ctx.owner);
    return { log: [`created stream "${desired.name}"`], stats: await statsOf(desired.name, ctx) };
  }
  if (current.owner !== ctx.owner) {
    throw new RivuletError(
      'CONFLICT',
      `stream "${desired.name}" exists and belongs to owner "${current.owner}"; a spec of "${ctx.owner}" cannot manage it`,
      {
        details: { stream: desired.name, owner: current.owner },
      },
    );
  }
  const { action, changes } = diff(desired, current);
  if (action === 'unchanged')
    return { log: [`stream "${desired.name}" already as declared`], stats: await statsOf(desired.name, ctx) };
  // the version read just before guards against a change made meanwhile by someone else
  await ctx.streams.change(desired.name, settings, current.version);
  return {
    log: [`updated stream "${desired.name}": ${changes.map((c) => c.path.slice(1)).join(', ')}`],
    stats: await statsOf(desired.name, ctx),
  };
}

async function remove(key: string, current: StreamRecord | null, ctx: KindContext): Promise<ApplyOutcome> {
  if (!current) return { log: [`stream "${key}" already gone`] };
  try {
    await ctx.streams.delete(key);
  } catch (err) {
    if (!(err instanceof RivuletError && err.code === 'STREAM_NOT_FOUND')) throw err;
  }
  return { log: [`deleted stream "${key}" and its events`] };
}

export const streamKind: SpecResourceKind<StreamSpec, StreamRecord> = {
  section: 'streams',
  noun: 'stream',
  parse,
  key: (d) => d.name,
  read: (key, ctx) => ctx.store.streams.get(key),
  diff,
  apply,
  delete: remove,
  dependencies: () => [],
  streamsOf: (key) => [key],
};
