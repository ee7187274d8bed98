/**
 * The schema registry: versioned JSON Schemas per (stream, event type), each new version
 * checked against earlier ones under the type's compatibility mode.
 *
 * Versions are numbered from 1 and never reused: a deleted version leaves a tombstone, so an
 * event stored with `schemaVersion: 3` always means the same schema. The compatibility mode is
 * the type's own (`schema-settings`), else the stream's `options.schemaCompatibility`, else
 * BACKWARD.
 *
 * Caching: compiled validators are kept per (stream, type, version) — versions are immutable,
 * so an entry only goes when its version is deleted — and each stream's index (which versions
 * exist, which is latest) is dropped whenever a version is added or deleted. A validator is
 * used only for a version its stream's index holds, so a dropped index is enough to stop a
 * deleted version. Both caches are per process; where the store reports document changes
 * (`documentWatch`), a version registered or deleted through another process drops them here
 * as well, so it is enforced by the next write. On a store shared by several processes an
 * index is also read again once it is INDEX_TTL_MS old, so a change whose notice was lost
 * (or a store without a watch) is enforced within that time rather than never.
 */
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/envelope.js';
import { FIELD_LIMITS } from '../events/event-fields.js';
import type { Clock } from '../../kernel/clock.js';
import type { Store, StreamRecord } from '../../store/port.js';
import {
  checkCompatibility,
  isCompatibilityMode,
  COMPATIBILITY_MODES,
  type CompatibilityMode,
  type CompatibilityReport,
  type JsonSchema,
} from './compatibility.js';
import { compileSchema, type CompiledSchema, type SchemaDraft } from './schema-compiler.js';
import { SCHEMAS, SCHEMA_SETTINGS, parseVersionKey, streamPrefix, typeKey, versionKey } from './schema-keys.js';

export const DEFAULT_COMPATIBILITY: CompatibilityMode = 'BACKWARD';

export interface RegisteredSchema {
  stream: string;
  type: string;
  version: number;
  draft: SchemaDraft;
  schema: JsonObject;
  createdAt: string;
}

export type SchemaVersionInfo = Omit<RegisteredSchema, 'schema' | 'stream' | 'type'>;

export interface SchemaTypeSummary {
  type: string;
  /** the mode new versions of this type are checked under */
  compatibility: CompatibilityMode;
  /** the type's own mode, when it overrides the stream's */
  compatibilityOverride: CompatibilityMode | null;
  latest: number;
  versions: number[];
}

/** A stored version: a schema, or the tombstone of a deleted one. */
interface VersionDoc {
  stream: string;
  type: string;
  version: number;
  createdAt: string;
  draft?: SchemaDraft;
  schema?: JsonObject;
  deletedAt?: string;
}

export interface StreamValidators {
  /**
   * The validator of a version (null = the latest); null when the type has no schema.
   * A version that does not exist fails with SCHEMA_NOT_FOUND.
   */
  get(type: string, version: number | null): { version: number; compiled: CompiledSchema } | null;
}

interface TypeSettings {
  type: string;
  compatibility: CompatibilityMode;
}

/** One type's live versions, in order. */
interface TypeIndex {
  versions: Map<number, RegisteredSchema>;
  latest: number;
}

/** how long a stream's index is used on a store shared by several processes before it is read again */
export const INDEX_TTL_MS = 30_000;

export class SchemaRegistry {
  private readonly indexes = new Map<string, { index: Promise<Map<string, TypeIndex>>; loadedMs: number }>();
  private readonly compiled = new Map<string, CompiledSchema>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    // the registry lives as long as its store, whose close ends the watch
    if (store.capabilities.documentWatch) store.documents.watch?.(SCHEMAS, (key) => this.dropCached(key));
  }

  /** forgets what is cached of one version document's stream (by its key), or of every stream (null) */
  private dropCached(key: string | null): void {
    if (key === null) {
      this.indexes.clear();
      this.compiled.clear();
      return;
    }
    const version = parseVersionKey(key);
    if (!version) return this.dropCached(null);
    this.indexes.delete(version.stream);
    this.compiled.delete(cacheKey(version.stream, version.type, version.version));
  }

  /**
   * Registers `schema` as the next version of (stream, type). Registering the schema the
   * latest version already has answers that version (`created: false`) rather than a copy.
   * `compatibility`, when given, is the mode this version is checked under, and becomes the
   * type's mode once the version is registered.
   */
  async register(
    streamName: string,
    type: string,
    schema: unknown,
    options: { compatibility?: CompatibilityMode } = {},
  ): Promise<{ schema: RegisteredSchema; created: boolean; mode: CompatibilityMode }> {
    const { compiled, body, mode, docs, unchanged, report } = await this.assess(streamName, type, schema, options);
    if (unchanged) {
      if (options.compatibility !== undefined) await this.setCompatibility(streamName, type, options.compatibility);
      return { schema: toRegistered(unchanged), created: false, mode };
    }
    if (!report.compatible) {
      const first = report.incompatibilities[0]!;
      throw new RivuletError(
        'SCHEMA_INCOMPATIBLE',
        `the new schema for "${type}" breaks ${mode} compatibility: ${first.direction} against version ${first.againstVersion} at ${first.pointer || '(root)'}: ${first.message}`,
        {
          details: {
            eventType: type,
            mode,
            pointer: first.pointer,
            rule: first.rule,
            incompatibilities: report.incompatibilities,
          },
        },
      );
    }
    const version = (docs[docs.length - 1]?.version ?? 0) + 1;
    const doc: VersionDoc = {
      stream: streamName,
      type,
      version,
      createdAt: this.clock.now().toISOString(),
      draft: compiled.draft,
      schema: body,
    };
    try {
      await this.store.documents.put(SCHEMAS, versionKey(streamName, type, version), doc, { expectedVersion: 0 });
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONFLICT') {
        throw new RivuletError('CONFLICT', `another version of "${type}" was registered at the same time; retry`, {
          details: { eventType: type },
        });
      }
      throw err;
    }
    this.compiled.set(cacheKey(streamName, type, version), compiled);
    this.indexes.delete(streamName);
    if (options.compatibility !== undefined) await this.setCompatibility(streamName, type, options.compatibility);
    return {
      schema: toRegistered(doc as VersionDoc & { schema: JsonObject; draft: SchemaDraft }),
      created: true,
      mode,
    };
  }

  /**
   * What registering `schema` would do, without registering it: the compatibility report
   * under the mode the registration would use (a report with no findings when it would be
   * accepted), and whether it is the latest version's schema again.
   */
  async checkCompatibility(
    streamName: string,
    type: string,
    schema: unknown,
    options: { compatibility?: CompatibilityMode } = {},
  ): Promise<{
    type: string;
    mode: CompatibilityMode;
    compatible: boolean;
    unchanged: boolean;
    latest: number | null;
    nextVersion: number;
    incompatibilities: CompatibilityReport['incompatibilities'];
  }> {
    const { mode, docs, live, unchanged, report } = await this.assess(streamName, type, schema, options);
    return {
      type,
      mode,
      compatible: report.compatible,
      unchanged: unchanged !== undefined,
      latest: live[live.length - 1]?.version ?? null,
      nextVersion: unchanged ? unchanged.version : (docs[docs.length - 1]?.version ?? 0) + 1,
      incompatibilities: report.incompatibilities,
    };
  }

  /** the steps of a registration up to its decision, shared by `register` and `checkCompatibility` */
  private async assess(
    streamName: string,
    type: string,
    schema: unknown,
    options: { compatibility?: CompatibilityMode },
  ) {
    assertType(type);
    const stream = await this.requireStream(streamName);
    const compiled = compileSchema(schema);
    const body = schema as JsonObject;
    if (options.compatibility !== undefined && !isCompatibilityMode(options.compatibility))
      throw badMode(options.compatibility, '/compatibility');
    const mode = options.compatibility ?? (await this.modeOf(stream, type));
    const docs = await this.versionDocs(streamName, type);
    const live = docs.filter(
      (d): d is VersionDoc & { schema: JsonObject; draft: SchemaDraft } => d.schema !== undefined,
    );
    const latest = live[live.length - 1];
    const unchanged = latest && canonical(latest.schema) === canonical(body) ? latest : undefined;
    const report: CompatibilityReport = unchanged
      ? { compatible: true, mode, incompatibilities: [] }
      : checkCompatibility(
          body as JsonSchema,
          live.map((d) => ({ version: d.version, schema: d.schema as JsonSchema })),
          mode,
        );
    return { compiled, body, mode, docs, live, unchanged, report };
  }

  /** the types of a stream that have at least one live version */
  async listTypes(streamName: string): Promise<SchemaTypeSummary[]> {
    const stream = await this.requireStream(streamName);
    const index = await this.index(streamName);
    const overrides = await this.store.documents.list<TypeSettings>(SCHEMA_SETTINGS, {
      prefix: streamPrefix(streamName),
    });
    const byType = new Map(overrides.map((d) => [d.value.type, d.value.compatibility]));
    return [...index.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([type, t]) => ({
        type,
        compatibility: byType.get(type) ?? streamMode(stream),
        compatibilityOverride: byType.get(type) ?? null,
        latest: t.latest,
        versions: [...t.versions.keys()],
      }));
  }

  async listVersions(
    streamName: string,
    type: string,
  ): Promise<{ type: string; compatibility: CompatibilityMode; versions: SchemaVersionInfo[] }> {
    const stream = await this.requireStream(streamName);
    const t = (await this.index(streamName)).get(type);
    if (!t) throw notFound(streamName, type);
    return {
      type,
      compatibility: await this.modeOf(stream, type),
      versions: [...t.versions.values()].map(({ version, draft, createdAt }) => ({ version, draft, createdAt })),
    };
  }

  async get(streamName: string, type: string, version: number | 'latest'): Promise<RegisteredSchema> {
    await this.requireStream(streamName);
    const t = (await this.index(streamName)).get(type);
    const found = t?.versions.get(version === 'latest' ? t.latest : version);
    if (!found) throw notFound(streamName, type, version);
    return found;
  }

  /** Deletes one version; its number is not given out again. Events that pin it are refused from then on. */
  async delete(streamName: string, type: string, version: number): Promise<void> {
    await this.requireStream(streamName);
    const key = versionKey(streamName, type, version);
    const doc = await this.store.documents.get<VersionDoc>(SCHEMAS, key);
    if (!doc || doc.value.schema === undefined) throw notFound(streamName, type, version);
    const tombstone: VersionDoc = {
      stream: streamName,
      type,
      version,
      createdAt: doc.value.createdAt,
      deletedAt: this.clock.now().toISOString(),
    };
    await this.store.documents.put(SCHEMAS, key, tombstone, { expectedVersion: doc.version });
    this.compiled.delete(cacheKey(streamName, type, version));
    this.indexes.delete(streamName);
  }

  /** Sets the type's own compatibility mode; null falls back to the stream's. */
  async setCompatibility(
    streamName: string,
    type: string,
    mode: CompatibilityMode | null,
  ): Promise<{ type: string; compatibility: CompatibilityMode; compatibilityOverride: CompatibilityMode | null }> {
    assertType(type);
    const stream = await this.requireStream(streamName);
    if (mode === null) {
      await this.store.documents.delete(SCHEMA_SETTINGS, typeKey(streamName, type));
      return { type, compatibility: streamMode(stream), compatibilityOverride: null };
    }
    if (!isCompatibilityMode(mode)) throw badMode(mode, '/compatibility');
    await this.store.documents.put<TypeSettings>(SCHEMA_SETTINGS, typeKey(streamName, type), {
      type,
      compatibility: mode,
    });
    return { type, compatibility: mode, compatibilityOverride: mode };
  }

  /**
   * The stream's validators as of now, for enforcement: one await per batch, then synchronous
   * look-ups per event (validators compile on first use and stay cached).
   */
  async validators(streamName: string): Promise<StreamValidators> {
    const index = await this.index(streamName);
    // most events of a batch share a type and use the latest version: look it up once per batch
    const latest = new Map<string, { version: number; compiled: CompiledSchema } | null>();
    const lookUp = (type: string, version: number | null) => {
      const t = index.get(type);
      if (!t) return null;
      const wanted = version ?? t.latest;
      // the index decides which versions exist: a validator cached before a delete is not used
      const registered = t.versions.get(wanted);
      if (!registered) throw notFound(streamName, type, wanted);
      const key = cacheKey(streamName, type, wanted);
      const cached = this.compiled.get(key);
      if (cached) return { version: wanted, compiled: cached };
      const compiled = compileSchema(registered.schema);
      this.compiled.set(key, compiled);
      return { version: wanted, compiled };
    };
    return {
      get: (type, version) => {
        if (version !== null) return lookUp(type, version);
        let found = latest.get(type);
        if (found === undefined) latest.set(type, (found = lookUp(type, null)));
        return found;
      },
    };
  }

  private async modeOf(stream: StreamRecord, type: string): Promise<CompatibilityMode> {
    const own = await this.store.documents.get<TypeSettings>(SCHEMA_SETTINGS, typeKey(stream.name, type));
    return own?.value.compatibility ?? streamMode(stream);
  }

  private async requireStream(name: string): Promise<StreamRecord> {
    const stream = await this.store.streams.get(name);
    if (!stream)
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${name}" does not exist`, { details: { stream: name } });
    return stream;
  }

  private async versionDocs(stream: string, type: string): Promise<VersionDoc[]> {
    const docs = await this.store.documents.list<VersionDoc>(SCHEMAS, { prefix: `${typeKey(stream, type)}/` });
    return docs.map((d) => d.value);
  }

  private index(stream: string): Promise<Map<string, TypeIndex>> {
    const cached = this.indexes.get(stream);
    // on one process every change passes through here: only a shared store needs the clock
    if (
      cached &&
      !(this.store.capabilities.multiProcess && this.clock.now().getTime() - cached.loadedMs >= INDEX_TTL_MS)
    )
      return cached.index;
    const entry = { index: this.loadIndex(stream), loadedMs: this.clock.now().getTime() };
    this.indexes.set(stream, entry);
    // a failed load is not cached
    entry.index.catch(() => {
      if (this.indexes.get(stream) === entry) this.indexes.delete(stream);
    });
    return entry.index;
  }

  private async loadIndex(stream: string): Promise<Map<string, TypeIndex>> {
    const docs = await this.store.documents.list<VersionDoc>(SCHEMAS, { prefix: streamPrefix(stream) });
    const index = new Map<string, TypeIndex>();
    for (const { value } of docs) {
      if (value.schema === undefined || value.draft === undefined) continue;
      let t = index.get(value.type);
      if (!t) index.set(value.type, (t = { versions: new Map(), latest: 0 }));
      t.versions.set(value.version, toRegistered(value as VersionDoc & { schema: JsonObject; draft: SchemaDraft }));
      t.latest = Math.max(t.latest, value.version);
    }
    return index;
  }
}

/** The stream's mode: `options.schemaCompatibility`, else BACKWARD. */
export function streamMode(stream: StreamRecord): CompatibilityMode {
  const mode = stream.options.schemaCompatibility;
  if (mode === undefined || mode === null) return DEFAULT_COMPATIBILITY;
  if (!isCompatibilityMode(mode)) throw badMode(mode, '/options/schemaCompatibility');
  return mode;
}

function badMode(mode: unknown, pointer: string): RivuletError {
  return new RivuletError(
    'VALIDATION_FAILED',
    `${JSON.stringify(mode)} is not a compatibility mode: use one of ${COMPATIBILITY_MODES.join(', ')}`,
    { details: { pointer } },
  );
}

function assertType(type: string): void {
  // eslint-disable-next-line no-control-regex
  if (type.length === 0 || type.length > FIELD_LIMITS.type || /[\u0000-\u001f\u007f]/.test(type)) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `an event type is 1–${FIELD_LIMITS.type} characters without control characters`,
      { details: { pointer: '/type' } },
    );
  }
}

function notFound(stream: string, type: string, version?: number | 'latest'): RivuletError {
  const which = version === undefined || version === 'latest' ? 'no schema' : `no version ${version} of the schema`;
  return new RivuletError('SCHEMA_NOT_FOUND', `stream "${stream}" has ${which} for event type "${type}"`, {
    details: { stream, eventType: type, ...(typeof version === 'number' ? { version } : {}) },
  });
}

function toRegistered(doc: VersionDoc & { schema: JsonObject; draft: SchemaDraft }): RegisteredSchema {
  return {
    stream: doc.stream,
    type: doc.type,
    version: doc.version,
    draft: doc.draft,
    schema: doc.schema,
    createdAt: doc.createdAt,
  };
}

function cacheKey(stream: string, type: string, version: number): string {
  return `${stream}\u0000${type}\u0000${version}`;
}

/** JSON text with object keys sorted, so two spellings of one schema compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
