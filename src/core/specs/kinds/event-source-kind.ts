/**
 * `eventSources:` in a spec: the iFLUX event sources the spec's rules name in their conditions,
 * by id. Name and description are declarative; `publicId` (what its events carry as
 * `/event-sources/<publicId>`) is generated when left out and never changes, so a spec that
 * declares a different one fails its pipeline.
 */
import { RivuletError } from '../../../kernel/errors.js';
import type { JsonObject } from '../../../kernel/envelope.js';
import type { Actor, EventSourceRecord } from '../../rules/rule-model.js';
import { checkId, checkPublicId, checkText } from '../../rules/rule-validation.js';
import type { ApplyOutcome, Diff, KindContext, SpecResourceKind } from '../resource-kind.js';
import type { FieldChange } from '../revision-model.js';
import { checkedEntry, isPlainObject, onlyFields, specInvalid } from '../spec-invalid.js';
import { assertSpecOwns, deleteById, readById } from './owned-by-id.js';

export interface EventSourceSpec extends JsonObject {
  id: string;
  name: string;
  description: string;
  /** null: generated at creation, and not compared */
  publicId: string | null;
}

function parse(entry: unknown, pointer: string): EventSourceSpec {
  if (!isPlainObject(entry)) throw specInvalid('an event source is an object with "id" and "name"', pointer);
  onlyFields(entry, ['id', 'name', 'description', 'publicId'], pointer);
  return checkedEntry(
    () => ({
      id: checkId(entry.id, 'an event source'),
      name: checkText(entry.name, '/name', { max: 200, required: true }),
      description: checkText(entry.description, '/description', { max: 2000 }),
      publicId: entry.publicId === undefined || entry.publicId === null ? null : checkPublicId(entry.publicId),
    }),
    pointer,
  );
}

function read(key: string, ctx: KindContext): Promise<EventSourceRecord | null> {
  return readById((reader) => ctx.eventSources.get(key, reader), 'NOT_FOUND');
}

function diff(desired: EventSourceSpec | null, current: EventSourceRecord | null): Diff {
  if (!desired)
    return current
      ? { action: 'delete', changes: [{ path: '', from: current.id }] }
      : { action: 'unchanged', changes: [] };
  if (!current) {
    const changes: FieldChange[] = [{ path: '/name', to: desired.name }];
    if (desired.description !== '') changes.push({ path: '/description', to: desired.description });
    if (desired.publicId !== null) changes.push({ path: '/publicId', to: desired.publicId });
    return { action: 'create', changes };
  }
  const changes: FieldChange[] = [];
  if (desired.name !== current.name) changes.push({ path: '/name', from: current.name, to: desired.name });
  if (desired.description !== current.description)
    changes.push({ path: '/description', from: current.description, to: desired.description });
  if (desired.publicId !== null && desired.publicId !== current.publicId)
    changes.push({ path: '/publicId', from: current.publicId, to: desired.publicId });
  return { action: changes.length > 0 ? 'update' : 'unchanged', changes };
}

async function apply(
  desired: EventSourceSpec,
  current: EventSourceRecord | null,
  ctx: KindContext,
): Promise<ApplyOutcome> {
  const actor: Actor = { owner: ctx.owner, admin: false };
  if (!current) {
    const created = await ctx.eventSources.create(
      {
        id: desired.id,
        name: desired.name,
        description: desired.description,
        ...(desired.publicId === null ? {} : { publicId: desired.publicId }),
      },
      actor,
    );
    return { log: [`created event source "${desired.id}" (source "${created.source}")`] };
  }
  assertSpecOwns('event source', 'eventSource', desired.id, current.owner, ctx.owner);
  if (desired.publicId !== null && desired.publicId !== current.publicId) {
    throw new RivuletError(
      'CONFLICT',
      `event source "${desired.id}" has the public identifier "${current.publicId}", which never changes; declare that one or none`,
      { details: { eventSource: desired.id } },
    );
  }
  const { action, changes } = diff(desired, current);
  if (action === 'unchanged') return { log: [`event source "${desired.id}" already as declared`] };
  await ctx.eventSources.update(desired.id, { name: desired.name, description: desired.description }, actor);
  return { log: [`updated event source "${desired.id}": ${changes.map((c) => c.path.slice(1)).join(', ')}`] };
}

async function remove(key: string, current: EventSourceRecord | null, ctx: KindContext): Promise<ApplyOutcome> {
  if (!current) return { log: [`event source "${key}" already gone`] };
  await deleteById((reader) => ctx.eventSources.delete(key, reader), 'NOT_FOUND');
  return { log: [`deleted event source "${key}"`] };
}

export const eventSourceKind: SpecResourceKind<EventSourceSpec, EventSourceRecord> = {
  section: 'eventSources',
  noun: 'event source',
  parse,
  key: (d) => d.id,
  read,
  diff,
  apply,
  delete: remove,
  dependencies: () => [],
  streamsOf: () => [],
};
