import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../dist/store/sqlite/schema.js';
import { AppendGroupWriter } from '../dist/store/sqlite/append-group.js';
import { toWire } from '../dist/store/sqlite/append-wire.js';
import { messageEvents } from '../dist/dialects/durable-streams/ds-events.js';
const db = new Database(join(mkdtempSync(join(tmpdir(), 'wbench-')), 'db.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = OFF');
migrate(db);
db.prepare(
  `INSERT INTO streams (name, owner, description, retention, exclusive_producer, options, created_at, updated_at, version) VALUES ('s','o','','{}',0,'{}','x','x',1)`,
).run();
const w = new AppendGroupWriter(db);
const msgs = Array.from({ length: 100 }, (_, i) => ({ order: i, item: 'widget' }));
const nowIso = new Date().toISOString();
const reqs = () =>
  Array.from({ length: 50 }, () =>
    toWire('s', null, undefined, undefined, messageEvents(msgs, { path: 's', producer: null, nowIso })),
  );
for (let r = 0; r < 10; r++) w.write(reqs(), Date.now());
const prepared = Array.from({ length: 40 }, reqs);
const t0 = process.cpuUsage();
for (const g of prepared) w.write(g, Date.now());
const u = process.cpuUsage(t0);
console.log('worker write µs/event (sync OFF):', ((u.user + u.system) / (40 * 5000)).toFixed(2));
