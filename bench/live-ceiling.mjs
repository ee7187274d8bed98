// The live ceiling: a bare `ws` server that broadcasts every body POSTed to /publish to all
// connected WebSocket clients. Nothing is stored or read back. Prints its URL once listening.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const message = JSON.stringify({ data: JSON.parse(body) });
    for (const client of wss.clients) client.send(message);
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
  });
});
const wss = new WebSocketServer({ server });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`live ceiling listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  server.close(() => process.exit(0));
});
