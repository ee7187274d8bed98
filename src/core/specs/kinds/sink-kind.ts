/**
 * `sinks:` in a spec: a sink by id, every setting declarative (what the spec leaves out is the
 * default: no filter, no transform, the default policy, running). A changed sink is updated in
 * place through SinkService, so its consumers — its position — stay; `start` only matters when
 * the sink is created. The target is checked and normalised by the delivery layer (`prepare`)
 * so it compares with the stored one; secrets are compared as stored but shown redacted.
 */
import { RivuletError } from '../../../kernel/errors.js';
import type { JsonObject, JsonValue } from '../../../kernel/envelope.js';
import type { SinkRecord, SinkState, SinkTarget } from '../../sinks/sink-model.js';
import {
  assertSinkId,
  checkDeadLetterStream,
  checkFilter,
  checkPolicy,
  checkSources,
} from '../../sinks/sink-policy.js';
import { canonicalJson } from '../canonical-json.js';
import type { ApplyOutcome, Diff, KindContext, ResourceRef, SpecResourceKind } from '../resource-kind.js';
import type { FieldChange } from '../revision-model.js';
import { checkedEntry, checkedEntryAsync, isPlainObject, onlyFields, specInvalid } from '../spec-invalid.js';
import { redactByName } from '../spec-secrets.js';
import { parseStart, startPosition } from './start-position.js';

export interface SinkSpec extends JsonObject {
  id: string;
  description: string;
  streams: string[];
  filter: JsonObject | null;
  transform: string | null;
  /** as written until `prepare`, then as the delivery layer normalised it */
  target: SinkTarget;
  policy: JsonObject;
  deadLetterStream: string | null;
  state: SinkState;
  /** where a created sink starts; null: the end */
  start: JsonObject | null;
  /** the target with its secrets replaced, set by `prepare`: what plans show */
  shownTarget: JsonObject | null;
}

export type CurrentSink = SinkRecord & { version: number; shownTarget: JsonObject };

const FIELDS = [
  'id',
  'description',
  'streams',
  'filter',
  'transform',
  'target',
  'policy',
  'deadLetterStream',
  'state',
  'start',
] as const;
/** compared as a whole; the target is compared field by field */
const COMPARED = ['description', 'streams', 'filter', 'transform', 'policy', 'deadLetterStream', 'state'] as const;

function parse(entry: unknown, pointer: string): SinkSpec {
  if (!isPlainObject(entry)) throw specInvalid('a sink is an object with "id", "streams" and "target"', pointer);
  onlyFields(entry, FIELDS, pointer);
  if (typeof entry.id !== 'string') throw specInvalid('"id" is required: the sink\'s id', `${pointer}/id`);
  checkedEntry(() => assertSinkId(entry.id as string), pointer);
  if (entry.description !== undefined && (typeof entry.description !== 'string' || entry.description.length > 2000)) {
    throw specInvalid('"description" is a string of at most 2000 characters', `${pointer}/description`);
  }
  const streams = checkedEntry(() => checkSources(entry.streams), pointer);
  const filter = checkedEntry(() => checkFilter(entry.filter), pointer);
  if (entry.transform !== undefined && entry.transform !== null && typeof entry.transform !== 'string')
    throw specInvalid('"transform" is a JSONata expression', `${pointer}/transform`);
  if (!isPlainObject(entry.target) || typeof entry.target.kind !== 'string')
    throw specInvalid(
      '"target" is required: an object with a "kind" (http, stream, s3, opensearch) and its settings',
      `${pointer}/target`,
    );
  const policy = checkedEntry(() => checkPolicy(entry.policy as never), pointer);
  const deadLetterStream = checkedEntry(() => checkDeadLetterStream(entry.deadLetterStream, streams), pointer);
  const state = entry.state ?? 'running';
  if (state !== 'running' && state !== 'paused')
    throw specInvalid('"state" is "running" or "paused"', `${pointer}/state`);
  return {
    id: entry.id,
    description: (entry.description as string | undefined) ?? '',
    streams,
    filter: filter as JsonObject | null,
    transform: (entry.transform as string | null | undefined) ?? null,
    target: entry.target as SinkTarget,
    policy: policy as unknown as JsonObject,
    deadLetterStream,
    state,
    start: parseStart(entry.start, `${pointer}/start`),
    shownTarget: null,
  };
}

/**
 * the delivery layer's checks: the target normalised (and its URL guarded), filter and transform
 * compiled. The spec gives the whole target, so a secret it leaves out is removed; a secret
 * written as the placeholder revisions are answered with keeps the sink's stored one (of the
 * spec's own owner), so a spec read back and uploaded again neither changes nor stores it.
 */
async function prepare(desired: SinkSpec, pointer: string, ctx: KindContext): Promise<SinkSpec> {
  const checks = ctx.sinks.checks;
  const kind = desired.target.kind;
  const existing = await ctx.sinks.get(desired.id).catch(notFoundAsNull);
  const stored = existing !== null && existing.owner === ctx.owner ? existing.target : null;
  const target = {
    ...(await checkedEntryAsync(() => checks.target(kind, desired.target, { stored, omitted: 'remove' }), pointer)),
    kind,
  };
  checkedEntry(() => checks.mapping(desired.filter, desired.transform), pointer);
  const loop = checks.writesTo(kind, target).find((s) => desired.streams.includes(s));
  if (loop !== undefined)
    throw specInvalid(`the sink would write into "${loop}", which it reads`, `${pointer}/target/stream`);
  return { ...desired, target, shownTarget: { ...checks.redact(kind, target), kind } };
}

function notFoundAsNull(err: unknown): null {
  if (err instanceof RivuletError && err.code === 'SINK_NOT_FOUND') return null;
  throw err;
}

async function read(key: string, ctx: KindContext): Promise<CurrentSink | null> {
  try {
    const doc = await ctx.sinks.getDocument(key);
    const record = doc.value;
    return {
      ...record,
      version: doc.version,
      shownTarget: { ...ctx.sinks.checks.redact(record.target.kind, record.target), kind: record.target.kind },
    };
  } catch (err) {
    if (err instanceof RivuletError && err.code === 'SINK_NOT_FOUND') return null;
    throw err;
  }
}

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/** the target's changed fields, compared with their secrets but shown without them */
function targetChanges(desired: SinkSpec, current: CurrentSink): FieldChange[] {
  const to = desired.shownTarget ?? {};
  if (desired.target.kind !== current.target.kind) return [{ path: '/target', from: current.shownTarget, to }];
  const fields = [...new Set([...Object.keys(desired.target), ...Object.keys(current.target)])].sort();
  return fields
    .filter((f) => !same(desired.target[f], current.target[f]))
    .map((f) => ({ path: `/target/${f}`, from: current.shownTarget[f] ?? null, to: to[f] ?? null }));
}

/** a normalised target without its unset settings (nulls, empty maps), so a created one reads as written */
function settingsGiven(target: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(target).filter(([, v]) => v !== null && !(isPlainObject(v) && Object.keys(v).length === 0)),
  );
}

function diff(desired: SinkSpec | null, current: CurrentSink | null): Diff {
  if (!desired)
    return current
      ? { action: 'delete', changes: [{ path: '', from: current.id }] }
      : { action: 'unchanged', changes: [] };
  if (!current) {
    const changes: FieldChange[] = [
      { path: '/streams', to: desired.streams },
      { path: '/target', to: settingsGiven(desired.shownTarget ?? {}) },
    ];
    for (const field of ['filter', 'transform', 'deadLetterStream'] as const)
      if (desired[field] !== null) changes.push({ path: `/${field}`, to: desired[field] as JsonValue });
    if (desired.state !== 'running') changes.push({ path: '/state', to: desired.state });
    return { action: 'create', changes };
  }
  const changes: FieldChange[] = [];
  for (const field of COMPARED) {
    const have = current[field] as unknown as JsonValue;
    if (!same(desired[field], have))
      changes.push({ path: `/${field}`, from: have ?? null, to: desired[field] ?? null });
  }
  changes.push(...targetChanges(desired, current));
  return { action: changes.length > 0 ? 'update' : 'unchanged', changes };
}

async function apply(desired: SinkSpec, current: CurrentSink | null, ctx: KindContext): Promise<ApplyOutcome> {
  const settings = {
    description: desired.description,
    streams: desired.streams,
    filter: desired.filter,
    transform: desired.transform,
    target: desired.target,
    policy: desired.policy as never,
    deadLetterStream: desired.deadLetterStream,
  };
  if (!current) {
    await ctx.sinks.create(
      { id: desired.id, ...settings, state: desired.state, start: startPosition(desired.start) },
      ctx.owner,
    );
    return { log: [`created sink "${desired.id}" reading ${desired.streams.join(', ')}`] };
  }
  if (current.owner !== ctx.owner) {
    throw new RivuletError(
      'CONFLICT',
      `sink "${desired.id}" exists and belongs to owner "${current.owner}"; a spec of "${ctx.owner}" cannot manage it`,
      { details: { sink: desired.id, owner: current.owner } },
    );
  }
  if (current.labels.rule !== undefined) {
    throw new RivuletError(
      'CONFLICT',
      `sink "${desired.id}" is run by rule "${String(current.labels.rule)}"; change the rule instead`,
      { details: { sink: desired.id } },
    );
  }
  const { action, changes } = diff(desired, current);
  if (action === 'unchanged') return { log: [`sink "${desired.id}" already as declared`] };
  const fields = changes.map((c) => c.path.slice(1));
  if (fields.some((f) => f !== 'state')) {
    // the version read just before guards against a change made meanwhile by someone else; consumers (positions) stay
    await ctx.sinks.update(desired.id, settings, current.version);
  }
  if (desired.state !== current.state)
    await (desired.state === 'paused' ? ctx.sinks.pause(desired.id) : ctx.sinks.resume(desired.id));
  return { log: [`updated sink "${desired.id}" in place (position kept): ${fields.join(', ')}`] };
}

async function remove(key: string, current: CurrentSink | null, ctx: KindContext): Promise<ApplyOutcome> {
  if (!current) return { log: [`sink "${key}" already gone`] };
  try {
    await ctx.sinks.delete(key);
  } catch (err) {
    if (!(err instanceof RivuletError && err.code === 'SINK_NOT_FOUND')) throw err;
  }
  return { log: [`deleted sink "${key}" with its consumers`] };
}

/** the streams a sink reads, and the one a `stream` target writes into */
function streamsTouched(sink: Pick<SinkSpec, 'streams' | 'target'>): string[] {
  const written = sink.target.kind === 'stream' && typeof sink.target.stream === 'string' ? [sink.target.stream] : [];
  return [...sink.streams, ...written];
}

export const sinkKind: SpecResourceKind<SinkSpec, CurrentSink> = {
  section: 'sinks',
  noun: 'sink',
  parse,
  prepare,
  shown: (entry) => (entry.target === undefined ? entry : { ...entry, target: redactByName(entry.target) }),
  key: (d) => d.id,
  read,
  diff,
  apply,
  delete: remove,
  dependencies: (_key, desired, current): ResourceRef[] => {
    const sink = desired ?? current;
    return sink ? streamsTouched(sink).map((key) => ({ kind: 'streams', key })) : [];
  },
  streamsOf: (_key, desired) => streamsTouched(desired),
};
