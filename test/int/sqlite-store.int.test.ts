/** The SQLite store against the shared store conformance suite, plus what only SQLite promises. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { defineStoreSuite } from '../conformance/store/store-suite.js';
import { DATABASE_FILE, SqliteStore, StoreOpenError } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/resources.js';
import { openTestStore } from '../support/test-app.js';

defineStoreSuite('sqlite', async () => {
  const dir = tempDir('rivulet-store');
  let current = await openTestStore(dir);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openTestStore(dir);
      return current;
    },
    cleanup: () => current.close(),
  };
});

describe('sqlite store specifics', () => {
  it('runs with synchronous=FULL in WAL mode on both connections after a reopen', async () => {
    const dir = tempDir('rivulet-store');
    const first = await openTestStore(dir);
    await first.close();
    const store = await openTestStore(dir);
    try {
      const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        db.close();
      }
      const writer = (store as unknown as { writer: Database.Database }).writer;
      const reader = (store as unknown as { reader: Database.Database }).reader;
      assert.equal(writer.pragma('synchronous', { simple: true }), 2);
      assert.equal(reader.pragma('synchronous', { simple: true }), 2);
    } finally {
      await store.close();
    }
  });

  it('refuses a file that is not a database with a clear StoreOpenError', async () => {
    const dir = tempDir('rivulet-store');
    writeFileSync(join(dir, DATABASE_FILE), 'this is not sqlite '.repeat(100));
    const store = new SqliteStore({ dataDir: dir });
    await assert.rejects(
      store.open(),
      (err: unknown) => err instanceof StoreOpenError && /not a readable Rivulet database/.test(err.message),
    );
  });

  it('shares one commit among concurrent appends', async () => {
    const store = await openTestStore();
    try {
      await store.streams.create({
        name: 's',
        owner: 'o',
        description: '',
        retention: {},
        exclusiveProducer: false,
        options: {},
        createdAt: '',
        updatedAt: '',
      });
      const before = store.events.commitStats.commits;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.events.append({
            stream: 's',
            producer: null,
            events: [
              {
                id: `e${i}`,
                idSupplied: false,
                type: 't',
                source: 's',
                time: new Date().toISOString(),
                producer: null,
                data: i,
                meta: {},
              },
            ],
          }),
        ),
      );
      assert.ok(store.events.commitStats.commits - before < 20, 'concurrent appends were grouped');
    } finally {
      await store.close();
    }
  });
});
