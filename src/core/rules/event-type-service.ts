/**
 * Event types (iFLUX): a name or URL that events carry as `type`, with an optional JSON Schema.
 * The schema is not kept here: it is registered in the schema registry for that type on the
 * rules' stream (the iFLUX stream), so events are validated at ingest like any other schema,
 * versions and compatibility modes included (docs/schemas.md). An event type is a named view
 * of that registry entry. Its `type` is unique and never changes.
 */
import type { Clock } from '../../kernel/clock.js';
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/envelope.js';
import type { CompatibilityMode } from '../schemas/compatibility.js';
import type { RegisteredSchema, SchemaRegistry } from '../schemas/schema-registry.js';
import type { StreamService } from '../streams/stream-service.js';
import type { DocumentStore } from '../../store/port.js';
import { EVENT_TYPES_COLLECTION, EVENT_TYPE_NAMES_COLLECTION, type Actor, type EventTypeRecord } from './rule-model.js';
import { listOwned } from './owned-list.js';
import { assertUnused } from './rule-references.js';
import { checkEventTypeName, checkId, checkText, newResourceId } from './rule-validation.js';

export interface EventTypeInput {
  id?: string;
  name?: string;
  description?: string;
  type: string;
  schema?: unknown;
  compatibility?: CompatibilityMode;
}

export interface EventTypeView extends EventTypeRecord {
  /** the latest registered version, or null when the type has no schema */
  schema: JsonObject | null;
  schemaVersion: number | null;
}

export interface EventTypeDeps {
  documents: DocumentStore;
  streams: StreamService;
  schemas: SchemaRegistry;
  clock: Clock;
  /** the stream event types' schemas are registered on */
  stream: string;
}

export class EventTypeService {
  constructor(private readonly deps: EventTypeDeps) {}

  async create(input: EventTypeInput, actor: Actor): Promise<EventTypeView> {
    const { documents } = this.deps;
    const id = input.id === undefined ? newResourceId() : checkId(input.id, 'an event type');
    const type = checkEventTypeName(input.type);
    const name = checkText(input.name, '/name', { max: 200, fallback: type });
    const description = checkText(input.description, '/description', { max: 2000 });
    if (await documents.get(EVENT_TYPES_COLLECTION, id)) throw conflict(`an event type "${id}" exists already`, '/id');
    try {
      await documents.put(EVENT_TYPE_NAMES_COLLECTION, nameKey(type), { id }, { expectedVersion: 0 });
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONFLICT')
        throw conflict(`an event type for "${type}" exists already`, '/type');
      throw err;
    }
    const now = this.deps.clock.now().toISOString();
    const record: EventTypeRecord = {
      id,
      name,
      description,
      owner: actor.owner,
      type,
      stream: this.deps.stream,
      createdAt: now,
      updatedAt: now,
    };
    try {
      if (input.schema !== undefined) await this.register(type, input.schema, input.compatibility, actor);
      await documents.put(EVENT_TYPES_COLLECTION, id, record, { expectedVersion: 0 });
    } catch (err) {
      await documents.delete(EVENT_TYPE_NAMES_COLLECTION, nameKey(type));
      if (err instanceof RivuletError && err.code === 'CONFLICT' && err.details?.eventType === undefined)
        throw conflict(`an event type "${id}" exists already`, '/id');
      throw err;
    }
    return this.view(record);
  }

  async get(id: string, actor: Actor): Promise<EventTypeView> {
    return this.view(await this.record(id, actor));
  }

  async record(id: string, actor: Actor): Promise<EventTypeRecord> {
    const doc = await this.deps.documents.get<EventTypeRecord>(EVENT_TYPES_COLLECTION, id);
    if (doc === null || (!actor.admin && doc.value.owner !== actor.owner)) throw notFound(id);
    return doc.value;
  }

  async list(
    actor: Actor,
    options: { after?: string; limit: number },
  ): Promise<{ items: EventTypeView[]; next: string | null }> {
    const page = await listOwned<EventTypeRecord>(this.deps.documents, EVENT_TYPES_COLLECTION, actor, options);
    return { items: await Promise.all(page.items.map((r) => this.view(r))), next: page.next };
  }

  /** Changes name and description; a schema registers a new version (checked under the compatibility mode). */
  async update(
    id: string,
    patch: { name?: string; description?: string; schema?: unknown; compatibility?: CompatibilityMode },
    actor: Actor,
  ): Promise<EventTypeView> {
    const current = await this.record(id, actor);
    const next: EventTypeRecord = {
      ...current,
      name: patch.name === undefined ? current.name : checkText(patch.name, '/name', { max: 200, required: true }),
      description:
        patch.description === undefined
          ? current.description
          : checkText(patch.description, '/description', { max: 2000 }),
      updatedAt: this.deps.clock.now().toISOString(),
    };
    if (patch.schema !== undefined) await this.register(current.type, patch.schema, patch.compatibility, actor);
    await this.deps.documents.put(EVENT_TYPES_COLLECTION, id, next);
    return this.view(next);
  }

  /**
   * Refused (RESOURCE_IN_USE naming the rule) while a rule's condition names it. The schema
   * versions stay in the registry: events stored under them keep their meaning.
   */
  async delete(id: string, actor: Actor): Promise<void> {
    const current = await this.record(id, actor);
    await assertUnused(this.deps.documents, 'eventTypeId', id, 'event type');
    await this.deps.documents.delete(EVENT_TYPES_COLLECTION, id);
    await this.deps.documents.delete(EVENT_TYPE_NAMES_COLLECTION, nameKey(current.type));
  }

  private async register(
    type: string,
    schema: unknown,
    compatibility: CompatibilityMode | undefined,
    actor: Actor,
  ): Promise<void> {
    await this.deps.streams.ensure(
      { name: this.deps.stream, description: 'events posted through the iFLUX API' },
      actor.owner,
    );
    try {
      await this.deps.schemas.register(
        this.deps.stream,
        type,
        schema,
        compatibility === undefined ? {} : { compatibility },
      );
    } catch (err) {
      // the registry's pointers are relative to the schema; here the schema sits at /schema
      if (
        err instanceof RivuletError &&
        typeof err.details?.pointer === 'string' &&
        err.code !== 'SCHEMA_INCOMPATIBLE'
      ) {
        throw new RivuletError(err.code, err.message, {
          details: { ...err.details, pointer: `/schema${err.details.pointer}` },
          cause: err,
        });
      }
      throw err;
    }
  }

  private async view(record: EventTypeRecord): Promise<EventTypeView> {
    let latest: RegisteredSchema | null = null;
    try {
      latest = await this.deps.schemas.get(record.stream, record.type, 'latest');
    } catch (err) {
      if (!(err instanceof RivuletError && (err.code === 'SCHEMA_NOT_FOUND' || err.code === 'STREAM_NOT_FOUND')))
        throw err;
    }
    return { ...record, schema: latest?.schema ?? null, schemaVersion: latest?.version ?? null };
  }
}

/** document keys stay short and plain whatever the type holds */
function nameKey(type: string): string {
  return encodeURIComponent(type);
}

function notFound(id: string): RivuletError {
  return new RivuletError('NOT_FOUND', `there is no event type "${id}"`, { details: { eventType: id } });
}

function conflict(message: string, pointer: string): RivuletError {
  return new RivuletError('CONFLICT', message, { details: { pointer } });
}
