import { prefixUpperBound } from '../key-range.js';
import type { Database } from 'better-sqlite3';
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/envelope.js';
import type { StreamCatalog, StreamRecord, StreamSettings } from '../port.js';

interface Row {
  name: string;
  owner: string;
  description: string;
  retention: string;
  exclusive_producer: number;
  locked_by: string | null;
  options: string;
  created_at: string;
  updated_at: string;
  version: number;
}

const COLUMNS =
  'name, owner, description, retention, exclusive_producer, locked_by, options, created_at, updated_at, version';

export class SqliteStreamCatalog implements StreamCatalog {
  private readonly st: ReturnType<typeof prepareStatements>;

  private readonly cache = new Map<string, StreamRecord>();

  constructor(private readonly db: Database) {
    this.st = prepareStatements(db);
  }

  async create(record: Omit<StreamRecord, 'version' | 'lockedBy'>): Promise<StreamRecord> {
    const info = this.st.insert.run(
      record.name,
      record.owner,
      record.description,
      JSON.stringify(record.retention),
      record.exclusiveProducer ? 1 : 0,
      JSON.stringify(record.options),
      record.createdAt,
      record.updatedAt,
    );
    if (info.changes === 0)
      throw new RivuletError('STREAM_EXISTS', `stream "${record.name}" already exists`, {
        details: { stream: record.name },
      });
    return { ...record, lockedBy: null, version: 1 };
  }

  async get(name: string): Promise<StreamRecord | null> {
    // Every produce looks its stream up; this process is the only writer of the table, so a
    // cache invalidated on each change here (and on a producer lock, see forget) stays exact.
    const cached = this.cache.get(name);
    if (cached) return copyOf(cached);
    const row = this.st.get.get(name) as Row | undefined;
    if (!row) return null;
    const record = toRecord(row);
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(name, record);
    return copyOf(record);
  }

  /** drops a cached record whose row changed behind the catalog's back */
  forget(name: string): void {
    this.cache.delete(name);
  }

  async list(options: { after?: string; limit: number; prefix?: string }): Promise<StreamRecord[]> {
    const prefix = options.prefix ?? '';
    const upper = prefixUpperBound(prefix);
    const rows = this.st.list.all(options.after ?? '', prefix, upper, options.limit) as Row[];
    return rows.map(toRecord);
  }

  async update(name: string, settings: Partial<StreamSettings>, expectedVersion?: number): Promise<StreamRecord> {
    const current = await this.get(name);
    if (!current)
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${name}" does not exist`, { details: { stream: name } });
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new RivuletError('CONFLICT', `stream "${name}" is at version ${current.version}, not ${expectedVersion}`);
    }
    const next = { ...current, ...settings };
    const row = this.st.update.get(
      next.description,
      JSON.stringify(next.retention),
      next.exclusiveProducer ? 1 : 0,
      JSON.stringify(next.options),
      new Date().toISOString(),
      next.exclusiveProducer ? 1 : 0,
      name,
      current.version,
    ) as Row | undefined;
    this.cache.delete(name);
    if (!row) throw new RivuletError('CONFLICT', `stream "${name}" changed while it was being updated; retry`);
    return toRecord(row);
  }

  async delete(name: string): Promise<boolean> {
    this.cache.delete(name);
    return this.db
      .transaction(() => {
        const row = this.st.id.get(name) as { id: number } | undefined;
        if (!row) return false;
        this.st.deleteEvents.run(row.id);
        this.st.deleteTypes.run(row.id);
        this.st.deleteIdem.run(row.id);
        this.st.deleteStream.run(row.id);
        return true;
      })
      .immediate();
  }
}

/** a copy the caller may change; cheaper than structuredClone on every produce (retention is flat) */
function copyOf(record: StreamRecord): StreamRecord {
  const options = Object.keys(record.options).length === 0 ? {} : structuredClone(record.options);
  return { ...record, retention: { ...record.retention }, options };
}

function toRecord(row: Row): StreamRecord {
  return {
    name: row.name,
    owner: row.owner,
    description: row.description,
    retention: JSON.parse(row.retention),
    exclusiveProducer: row.exclusive_producer === 1,
    lockedBy: row.locked_by,
    options: JSON.parse(row.options) as JsonObject,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

function prepareStatements(db: Database) {
  return {
    insert: db.prepare(
      `INSERT INTO streams (name, owner, description, retention, exclusive_producer, options, created_at, updated_at, version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (name) DO NOTHING`,
    ),
    get: db.prepare(`SELECT ${COLUMNS} FROM streams WHERE name = ?`),
    list: db.prepare(`SELECT ${COLUMNS} FROM streams WHERE name > ? AND name >= ? AND name < ? ORDER BY name LIMIT ?`),
    update: db.prepare(
      `UPDATE streams SET description = ?, retention = ?, exclusive_producer = ?, options = ?, updated_at = ?, version = version + 1,
       locked_by = CASE WHEN ? = 0 THEN NULL ELSE locked_by END
       WHERE name = ? AND version = ? RETURNING ${COLUMNS}`,
    ),
    id: db.prepare('SELECT id FROM streams WHERE name = ?'),
    deleteEvents: db.prepare('DELETE FROM events WHERE stream_id = ?'),
    deleteTypes: db.prepare('DELETE FROM stream_types WHERE stream_id = ?'),
    deleteIdem: db.prepare('DELETE FROM idempotency WHERE stream_id = ?'),
    deleteStream: db.prepare('DELETE FROM streams WHERE id = ?'),
  };
}
