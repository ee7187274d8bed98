import { prefixUpperBound } from '../key-range.js';
import type { Database } from 'better-sqlite3';
import { RivuletError } from '../../kernel/errors.js';
import type { DocumentStore, StoredDocument } from '../port.js';

interface Row {
  key: string;
  value: string;
  version: number;
  updated_at: string;
}

export class SqliteDocumentStore implements DocumentStore {
  private readonly st: ReturnType<typeof prepareStatements>;

  constructor(private readonly db: Database) {
    this.st = prepareStatements(db);
  }

  async get<T>(collection: string, key: string): Promise<StoredDocument<T> | null> {
    const row = this.st.get.get(collection, key) as Row | undefined;
    return row ? toDocument<T>(row) : null;
  }

  async put<T>(collection: string, key: string, value: T, options?: { expectedVersion?: number }): Promise<number> {
    const json = JSON.stringify(value);
    const now = new Date().toISOString();
    const expected = options?.expectedVersion;
    if (expected === undefined) return (this.st.upsert.get(collection, key, json, now) as { version: number }).version;
    if (expected === 0) {
      if (this.st.insert.run(collection, key, json, now).changes === 0) {
        throw new RivuletError('CONFLICT', `${collection}/${key} already exists`);
      }
      return 1;
    }
    const row = this.st.replace.get(json, now, collection, key, expected) as { version: number } | undefined;
    if (!row) throw new RivuletError('CONFLICT', `${collection}/${key} is not at version ${expected}`);
    return row.version;
  }

  async delete(collection: string, key: string, options?: { expectedVersion?: number }): Promise<boolean> {
    const info =
      options?.expectedVersion === undefined
        ? this.st.delete.run(collection, key)
        : this.st.deleteAt.run(collection, key, options.expectedVersion);
    return info.changes > 0;
  }

  async list<T>(
    collection: string,
    options?: { prefix?: string; after?: string; limit?: number },
  ): Promise<StoredDocument<T>[]> {
    const prefix = options?.prefix ?? '';
    const upper = prefixUpperBound(prefix);
    const rows = this.st.list.all(
      collection,
      options?.after ?? '',
      prefix,
      upper,
      options?.limit ?? 1_000_000,
    ) as Row[];
    return rows.map((r) => toDocument<T>(r));
  }
}

function toDocument<T>(row: Row): StoredDocument<T> {
  return { key: row.key, value: JSON.parse(row.value) as T, version: row.version, updatedAt: row.updated_at };
}

function prepareStatements(db: Database) {
  return {
    get: db.prepare('SELECT key, value, version, updated_at FROM documents WHERE collection = ? AND key = ?'),
    insert: db.prepare(
      'INSERT INTO documents (collection, key, value, version, updated_at) VALUES (?, ?, ?, 1, ?) ON CONFLICT DO NOTHING',
    ),
    upsert: db.prepare(
      `INSERT INTO documents (collection, key, value, version, updated_at) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value, version = version + 1, updated_at = excluded.updated_at
       RETURNING version`,
    ),
    replace: db.prepare(
      'UPDATE documents SET value = ?, version = version + 1, updated_at = ? WHERE collection = ? AND key = ? AND version = ? RETURNING version',
    ),
    delete: db.prepare('DELETE FROM documents WHERE collection = ? AND key = ?'),
    deleteAt: db.prepare('DELETE FROM documents WHERE collection = ? AND key = ? AND version = ?'),
    list: db.prepare(
      'SELECT key, value, version, updated_at FROM documents WHERE collection = ? AND key > ? AND key >= ? AND key < ? ORDER BY key LIMIT ?',
    ),
  };
}
