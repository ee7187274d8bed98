/**
 * Event sources (iFLUX): named, owned things that report events. Each gets a generated public
 * identifier; its events carry `/event-sources/<publicId>` as their `source`, and rule
 * conditions name the event source by id. The public identifier is unique (a second document
 * keyed by it, written first with expectedVersion 0) and never changes.
 */
import type { Clock } from '../../kernel/clock.js';
import { RivuletError } from '../../kernel/errors.js';
import type { DocumentStore } from '../../store/port.js';
import {
  EVENT_SOURCES_COLLECTION,
  EVENT_SOURCE_IDS_COLLECTION,
  type Actor,
  type EventSourceRecord,
} from './rule-model.js';
import { listOwned } from './owned-list.js';
import { assertUnused } from './rule-references.js';
import { checkId, checkPublicId, checkText, newPublicId, newResourceId } from './rule-validation.js';

export interface EventSourceInput {
  id?: string;
  name?: string;
  description?: string;
  /** the public identifier; generated when absent */
  publicId?: string;
}

export class EventSourceService {
  constructor(
    private readonly documents: DocumentStore,
    private readonly clock: Clock,
  ) {}

  async create(input: EventSourceInput, actor: Actor): Promise<EventSourceRecord> {
    const id = input.id === undefined ? newResourceId() : checkId(input.id, 'an event source');
    const name = checkText(input.name, '/name', { max: 200, required: true });
    const description = checkText(input.description, '/description', { max: 2000 });
    const publicId = input.publicId === undefined ? newPublicId() : checkPublicId(input.publicId);
    if (await this.documents.get(EVENT_SOURCES_COLLECTION, id))
      throw conflict(`an event source "${id}" exists already`, '/id');
    try {
      await this.documents.put(EVENT_SOURCE_IDS_COLLECTION, publicId, { id }, { expectedVersion: 0 });
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONFLICT')
        throw conflict(`the public identifier "${publicId}" is taken`, '/publicId');
      throw err;
    }
    const now = this.clock.now().toISOString();
    const record: EventSourceRecord = {
      id,
      name,
      description,
      owner: actor.owner,
      publicId,
      source: `/event-sources/${publicId}`,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.documents.put(EVENT_SOURCES_COLLECTION, id, record, { expectedVersion: 0 });
    } catch (err) {
      await this.documents.delete(EVENT_SOURCE_IDS_COLLECTION, publicId);
      if (err instanceof RivuletError && err.code === 'CONFLICT')
        throw conflict(`an event source "${id}" exists already`, '/id');
      throw err;
    }
    return record;
  }

  /** the event source, when the actor may see it (its owner, or an admin) */
  async get(id: string, actor: Actor): Promise<EventSourceRecord> {
    const doc = await this.documents.get<EventSourceRecord>(EVENT_SOURCES_COLLECTION, id);
    if (doc === null || (!actor.admin && doc.value.owner !== actor.owner)) throw notFound(id);
    return doc.value;
  }

  async list(
    actor: Actor,
    options: { after?: string; limit: number },
  ): Promise<{ items: EventSourceRecord[]; next: string | null }> {
    return listOwned<EventSourceRecord>(this.documents, EVENT_SOURCES_COLLECTION, actor, options);
  }

  async update(id: string, patch: { name?: string; description?: string }, actor: Actor): Promise<EventSourceRecord> {
    const current = await this.get(id, actor);
    const next: EventSourceRecord = {
      ...current,
      name: patch.name === undefined ? current.name : checkText(patch.name, '/name', { max: 200, required: true }),
      description:
        patch.description === undefined
          ? current.description
          : checkText(patch.description, '/description', { max: 2000 }),
      updatedAt: this.clock.now().toISOString(),
    };
    await this.documents.put(EVENT_SOURCES_COLLECTION, id, next);
    return next;
  }

  /** Refused (RESOURCE_IN_USE naming the rule) while a rule's condition names it. */
  async delete(id: string, actor: Actor): Promise<void> {
    const current = await this.get(id, actor);
    await assertUnused(this.documents, 'eventSourceId', id, 'event source');
    await this.documents.delete(EVENT_SOURCES_COLLECTION, id);
    await this.documents.delete(EVENT_SOURCE_IDS_COLLECTION, current.publicId);
  }
}

function notFound(id: string): RivuletError {
  return new RivuletError('NOT_FOUND', `there is no event source "${id}"`, { details: { eventSource: id } });
}

function conflict(message: string, pointer: string): RivuletError {
  return new RivuletError('CONFLICT', message, { details: { pointer } });
}
