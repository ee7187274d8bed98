/**
 * Streams: create, describe, list, change and delete the named logs events live in.
 */
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/envelope.js';
import type { Clock } from '../../kernel/clock.js';
import type { RetentionPolicy, Store, StreamRecord, StreamSettings } from '../../store/port.js';
import { assertUserStreamName } from './internal-streams.js';
import { assertStreamUnmanaged, hasManagedOptions, withManagedOptions } from './stream-management.js';
import { assertStreamName } from './stream-name.js';
import type { StreamView } from './stream-view.js';
import { assertWriteMode, keepWriteMode } from '../../kernel/write-mode.js';

export interface StreamDefinition {
  name: string;
  description?: string;
  retention?: RetentionPolicy;
  exclusiveProducer?: boolean;
  options?: JsonObject;
}

export class StreamService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** a stream a user names: none in the server's internal namespaces (internal-streams.ts) */
  async create(def: StreamDefinition, owner: string): Promise<StreamView> {
    assertStreamName(def.name);
    assertUserStreamName(def.name);
    if (def.options) withManagedOptions(null, def.options, def.name);
    return this.createRecord(def, owner);
  }

  /** `create` for a dialect that keeps settings of its own in the stream's options (stream-management.ts) */
  async createManaged(def: StreamDefinition, owner: string): Promise<StreamView> {
    assertStreamName(def.name);
    assertUserStreamName(def.name);
    return this.createRecord(def, owner);
  }

  private async createRecord(def: StreamDefinition, owner: string): Promise<StreamView> {
    assertStreamName(def.name);
    assertRetention(def.retention);
    assertWriteMode(def.options);
    const now = this.clock.now().toISOString();
    const record = await this.store.streams.create({
      name: def.name,
      owner,
      description: def.description ?? '',
      retention: def.retention ?? {},
      exclusiveProducer: def.exclusiveProducer ?? false,
      options: def.options ?? {},
      createdAt: now,
      updatedAt: now,
    });
    return { ...record, stats: await this.store.events.stats(record.name) };
  }

  /** creates the stream unless it exists; answers it either way. A name a user gave: none internal. */
  async ensure(def: StreamDefinition, owner: string): Promise<StreamRecord> {
    assertUserStreamName(def.name);
    return this.ensureAny(def, owner);
  }

  /**
   * `ensure` for the server's own writers (attempt logs, rule actions, dead letters): the one
   * way to make an internal stream. `owner` is the owner of what it serves, who may read it.
   */
  async ensureInternal(def: StreamDefinition, owner: string): Promise<StreamRecord> {
    return this.ensureAny(def, owner);
  }

  private async ensureAny(def: StreamDefinition, owner: string): Promise<StreamRecord> {
    const existing = await this.store.streams.get(def.name);
    if (existing) return existing;
    try {
      return await this.createRecord(def, owner);
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'STREAM_EXISTS') return this.require(def.name);
      throw err;
    }
  }

  async exists(name: string): Promise<boolean> {
    return (await this.store.streams.get(name)) !== null;
  }

  async require(name: string): Promise<StreamRecord> {
    const record = await this.store.streams.get(name);
    if (!record)
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${name}" does not exist`, { details: { stream: name } });
    return record;
  }

  async describe(name: string): Promise<StreamView> {
    const record = await this.require(name);
    return { ...record, stats: await this.store.events.stats(name) };
  }

  async list(options: {
    after?: string;
    limit: number;
    prefix?: string;
    visible?: (name: string, owner: string) => boolean;
  }): Promise<{
    streams: StreamView[];
    next: string | null;
  }> {
    const out: StreamView[] = [];
    let after = options.after;
    // filter by visibility page by page so a key sees full pages of its own streams
    while (out.length < options.limit) {
      const page = await this.store.streams.list({ after, limit: options.limit, prefix: options.prefix });
      for (const r of page) {
        if (out.length >= options.limit) break;
        if (!options.visible || options.visible(r.name, r.owner))
          out.push({ ...r, stats: await this.store.events.stats(r.name) });
      }
      if (page.length < options.limit) return { streams: out, next: null };
      after = page[page.length - 1]!.name;
    }
    return { streams: out, next: out.length > 0 ? out[out.length - 1]!.name : null };
  }

  /** the owner recorded on the stream; null when there is no such stream */
  async ownerOf(name: string): Promise<string | null> {
    return (await this.store.streams.get(name))?.owner ?? null;
  }

  /**
   * A change a user asks for (native PATCH, a spec): refused for a stream another resource
   * manages (okdata's streams, a sink's or a rule's internal streams), whose settings the
   * server keeps. `update` is the managing resource's own way.
   */
  async change(name: string, patch: Partial<StreamSettings>, expectedVersion?: number): Promise<StreamView> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.require(name);
      assertStreamUnmanaged(current, 'change');
      if (patch.options === undefined) return this.update(name, patch, expectedVersion);
      // managed options are carried over as read: the write is conditional on that version, so
      // a change the managing dialect made meanwhile is never rolled back
      const options = withManagedOptions(current, patch.options);
      if (!hasManagedOptions(current)) return this.update(name, patch, expectedVersion);
      try {
        return await this.update(name, { ...patch, options }, expectedVersion ?? current.version);
      } catch (err) {
        if (expectedVersion === undefined && attempt < 8 && err instanceof RivuletError && err.code === 'CONFLICT')
          continue;
        throw err;
      }
    }
  }

  async update(name: string, patch: Partial<StreamSettings>, expectedVersion?: number): Promise<StreamView> {
    assertRetention(patch.retention);
    if (patch.options !== undefined) {
      const current = (await this.require(name)).options;
      assertWriteMode(patch.options, current);
      patch = { ...patch, options: keepWriteMode(patch.options, current) };
    }
    const record = await this.store.streams.update(name, patch, expectedVersion);
    return { ...record, stats: await this.store.events.stats(name) };
  }

  async delete(name: string): Promise<void> {
    if (!(await this.store.streams.delete(name))) {
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${name}" does not exist`, { details: { stream: name } });
    }
  }
}

function assertRetention(retention: RetentionPolicy | undefined): void {
  if (!retention) return;
  for (const [field, value] of Object.entries(retention)) {
    if (value !== null && value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new RivuletError('VALIDATION_FAILED', `retention.${field} must be a positive integer`, {
        details: { pointer: `/retention/${field}` },
      });
    }
  }
}
