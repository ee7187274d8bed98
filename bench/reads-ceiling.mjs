// The ceiling for reads: a bare node:http server answering pages of events from one indexed
// SELECT on a plain SQLite table holding each event's JSON text, joined into `{"events":[…]}`.
// The database is named by BENCH_READS_DB; the table is `events (seq INTEGER PRIMARY KEY, json TEXT)`.
// Prints its URL once listening.
import { createServer } from 'node:http';
import Database from 'better-sqlite3';

const db = new Database(process.env.BENCH_READS_DB, { readonly: true });
const page = db.prepare('SELECT json FROM events WHERE seq > ? ORDER BY seq LIMIT ?').pluck();
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const after = Number(url.searchParams.get('after') ?? 0);
  const limit = Number(url.searchParams.get('limit') ?? 100);
  const rows = page.all(after, limit);
  res.writeHead(200, { 'content-type': 'application/json' }).end(`{"events":[${rows.join(',')}],"next":null}`);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`reads ceiling listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
