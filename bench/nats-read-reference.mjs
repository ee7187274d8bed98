// The reference for reads on nats: a bare node:http server answering `GET /?after=&limit=` with
// the messages of one JetStream stream read by a bare @nats-io/jetstream client — one ordered
// consumer per page, `fetch` of the page, the stored bodies spliced into one JSON array as they
// are (no parse, no envelope built). Usage: node nats-read-reference.mjs <servers> <js-stream>.
// Prints its URL once listening.
import { createServer } from 'node:http';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const [servers, stream] = process.argv.slice(2);
const nc = await connect({ servers: servers.split(','), noAsyncTraces: true });
const js = jetstream(nc);

async function page(after, limit) {
  const consumer = await js.consumers.get(stream, { opt_start_seq: after + 1 });
  const parts = [];
  try {
    const messages = await consumer.fetch({ max_messages: limit, expires: 5000 });
    for await (const m of messages) {
      parts.push(m.data);
      if (parts.length >= limit || m.info.pending === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
  return parts;
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const after = Number(url.searchParams.get('after') ?? 0);
  const limit = Number(url.searchParams.get('limit') ?? 100);
  page(after, limit).then(
    (parts) => {
      const chunks = [Buffer.from('{"events":[')];
      parts.forEach((p, i) => {
        if (i > 0) chunks.push(Buffer.from(','));
        chunks.push(p);
      });
      chunks.push(Buffer.from(']}'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.concat(chunks));
    },
    (err) => {
      res.writeHead(500).end(String(err));
    },
  );
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`reference listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => nc.close().then(() => process.exit(0))));
