/**
 * The SQLite schema and its migrations. Each migration runs once, in order, inside a
 * transaction; `PRAGMA user_version` records how far a database has come.
 */
import type { Database } from 'better-sqlite3';

const migrations: string[] = [
  `
  CREATE TABLE streams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    retention TEXT NOT NULL DEFAULT '{}',
    exclusive_producer INTEGER NOT NULL DEFAULT 0,
    locked_by TEXT,
    options TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    last_seq INTEGER NOT NULL DEFAULT 0,
    first_seq INTEGER NOT NULL DEFAULT 1,
    count INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE events (
    stream_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    type_seq INTEGER NOT NULL,
    source TEXT NOT NULL,
    time TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    producer TEXT,
    data TEXT NOT NULL,
    meta TEXT NOT NULL,
    schema_version INTEGER,
    size INTEGER NOT NULL,
    PRIMARY KEY (stream_id, seq)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX events_by_id ON events (stream_id, id);
  CREATE INDEX events_by_time ON events (stream_id, time_ms);
  CREATE INDEX events_by_type ON events (stream_id, type, seq);
  CREATE TABLE stream_types (
    stream_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    last_type_seq INTEGER NOT NULL,
    PRIMARY KEY (stream_id, type)
  ) WITHOUT ROWID;
  CREATE TABLE idempotency (
    stream_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT,
    result TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (stream_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX idempotency_by_age ON idempotency (created_ms);
  CREATE TABLE documents (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (collection, key)
  ) WITHOUT ROWID;
  `,
  // consumers: positions, and per-event delivery state of the leased style
  `
  CREATE TABLE consumers (
    id INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    types TEXT NOT NULL DEFAULT '[]',
    lease_ms INTEGER NOT NULL,
    max_deliveries INTEGER NOT NULL,
    dead_letter_stream TEXT,
    committed_seq INTEGER NOT NULL DEFAULT 0,
    scanned_seq INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (stream_id, name)
  );
  CREATE TABLE consumer_leases (
    consumer_id INTEGER NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    deliveries INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    token TEXT,
    client_id TEXT,
    PRIMARY KEY (consumer_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX consumer_leases_by_visibility ON consumer_leases (consumer_id, visible_ms);
  `,
  // when each leased event was first handed out (leases from before have none: read as "now")
  `
  ALTER TABLE consumer_leases ADD COLUMN first_ms INTEGER;
  `,
  // each event's native JSON answer, written by the append so pages are joined, not built; rows
  // from before keep data and meta (json NULL), rows since keep json (data and meta empty)
  `
  ALTER TABLE events ADD COLUMN json TEXT;
  `,
  // the latest event time up to each event (a running maximum in seq order), so a seek by time
  // is one index probe however the stream's times are ordered: the first event at or after a
  // time is the first whose running maximum reaches it. It takes the place of the index on
  // time_ms, which could only answer that by scanning every later time.
  `
  ALTER TABLE events ADD COLUMN time_max_ms INTEGER;
  ALTER TABLE streams ADD COLUMN time_max_ms INTEGER;
  UPDATE events SET time_max_ms = w.m
    FROM (SELECT stream_id AS s, seq AS q, MAX(time_ms) OVER (PARTITION BY stream_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS m FROM events) AS w
    WHERE events.stream_id = w.s AND events.seq = w.q;
  UPDATE streams SET time_max_ms = (SELECT MAX(time_ms) FROM events WHERE events.stream_id = streams.id);
  DROP INDEX events_by_time;
  CREATE INDEX events_by_time_max ON events (stream_id, time_max_ms);
  `,
];

export const SCHEMA_VERSION = migrations.length;

export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `the database was written by a newer Rivulet (schema ${current}, this one knows ${SCHEMA_VERSION}); upgrade Rivulet`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
