// The floor of the Durable Streams latency case: a bare node:http server that does no work. A
// POST is answered at once and its body handed to the long-poll waiting on that stream; nothing
// is stored, checked or synced. What the driver measures against it is its own cost and the
// loopback's, which no server can go below. Usage: node bench/ds-latency-floor.mjs
import { createServer } from 'node:http';

/** per stream path: the next offset, the bodies no reader took yet, the long-poll waiting */
const streams = new Map();
const stream = (path) => {
  let s = streams.get(path);
  if (!s) streams.set(path, (s = { next: 0, pending: [], waiting: null }));
  return s;
};

const server = createServer((req, res) => {
  const [path, query = ''] = (req.url ?? '/').split('?');
  const s = stream(path);
  if (req.method === 'PUT') {
    req.resume();
    req.on('end', () => res.writeHead(201).end());
    return;
  }
  if (req.method === 'POST') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      s.next++;
      s.pending.push(Buffer.concat(chunks).toString());
      res.writeHead(204, { 'stream-next-offset': String(s.next) }).end();
      const wake = s.waiting;
      s.waiting = null;
      wake?.();
    });
    return;
  }
  const answer = () => {
    const items = s.pending;
    s.pending = [];
    res.writeHead(200, { 'content-type': 'application/json', 'stream-next-offset': String(s.next) });
    res.end(`[${items.join(',')}]`);
  };
  if (query.includes('offset=now') && !query.includes('live=')) {
    s.pending = [];
    return answer();
  }
  if (s.pending.length > 0) answer();
  else s.waiting = answer;
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
