// The Durable Streams reference server (@durable-streams/server), file-backed, as its own
// process for the side-by-side benchmark. Usage: node bench/ds-reference-server.mjs <dataDir>
import { DurableStreamTestServer } from '@durable-streams/server';

const server = new DurableStreamTestServer({
  port: 0,
  host: '127.0.0.1',
  dataDir: process.argv[2],
  longPollTimeout: 30_000,
  compression: false,
});
const url = await server.start();
console.log(`listening on ${url}`);
const stop = () => void server.stop().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
