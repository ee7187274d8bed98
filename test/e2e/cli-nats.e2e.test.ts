/**
 * The `rivulet` client CLI against a Rivulet on the nats store: one real single-node
 * nats-server (JetStream, free port, temp store dir) and one built Rivulet process on it
 * (`--store nats://…`) for the whole file, the CLI run as real processes, a real HTTP
 * receiver on 127.0.0.1 for the sink. The same verbs as the sqlite CLI files, with their
 * JSON/NDJSON outputs parsed; on nats the admin key comes from RIVULET_ADMIN_KEY (no key file).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import {
  ndjsonLines,
  parseJson,
  runCli,
  startCli,
  waitFor,
  type CliOptions,
  type CliRun,
} from '../support/cli-runner.js';
import { startNatsServer, type NatsCluster } from '../support/nats-server.js';
import { startReceiver } from '../support/receiver.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const ADMIN = `admin-${randomUUID()}`;

// Not under `track`: nats-server and Rivulet live for the whole file and are closed in `after`.
let nats: NatsCluster;
let server: ServerProcess;
let fileDir: string;
let home: string;
let failed = false;

const cli = (args: string[], options?: CliOptions): Promise<CliRun> => runCli(home, args, options);
const json = async <T>(args: string[], options?: CliOptions): Promise<T> =>
  parseJson<T>(await cli([...args, '--json'], options));

async function produce(stream: string, events: { type: string; data: unknown }[]): Promise<void> {
  const run = await cli(['produce', stream, '--ordered', '--no-progress'], {
    input: events.map((e) => JSON.stringify(e)).join('\n'),
  });
  assert.equal(run.code, 0, run.stderr);
}

interface Event {
  seq: number;
  id: string;
  type: string;
  data: { i: number };
}

afterEach((t) => {
  if ((t as unknown as { passed?: boolean }).passed === false) failed = true;
});

before(async () => {
  fileDir = mkdtempSync(join(tmpdir(), 'rivulet-cli-nats-'));
  home = join(fileDir, 'home');
  nats = await startNatsServer({ dir: fileDir });
  server = await startServerProcess({
    dataDir: join(fileDir, 'data'),
    args: ['--store', nats.servers, '--sink-allow-loopback'],
    env: { RIVULET_ADMIN_KEY: ADMIN },
    startTimeoutMs: 30_000,
  });
  const login = await cli(['login', server.url], { input: `${ADMIN}\n` });
  assert.equal(login.code, 0, login.stderr);
});

after(async () => {
  await server?.close();
  await nats?.close();
  if (failed)
    process.stderr.write(`# kept test data: ${fileDir}\n# rivulet stderr:\n${server?.output().stderr.slice(-3000)}\n`);
  else rmSync(fileDir, { recursive: true, force: true });
});

test('status reports the nats store; streams create, ls, describe', async () => {
  const status = await json<{
    url: string;
    store: string;
    ready: boolean;
    key: { owner: string; scopes: string[] };
    streams: number;
  }>(['status']);
  assert.deepEqual(
    [status.url, status.store, status.ready, status.key.scopes, status.streams],
    [server.url, 'nats', true, ['admin'], 0],
  );
  assert.match((await cli(['status'])).stdout, /Store:\s+nats \(ready\)/);

  const created = await json<{ name: string; description: string; retention: Record<string, number> }>([
    'streams',
    'create',
    'orders',
    '--description',
    'shop orders',
    '--retention-age',
    '7d',
    '--retention-events',
    '100000',
  ]);
  assert.deepEqual(
    [created.name, created.description, created.retention],
    ['orders', 'shop orders', { maxAgeMs: 7 * 86_400_000, maxEvents: 100_000 }],
  );
  assert.equal((await cli(['streams', 'create', 'big'])).code, 0);
  const taken = await cli(['streams', 'create', 'big']);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /409 STREAM_EXISTS/);
  assert.deepEqual((await json<{ name: string }[]>(['streams', 'ls'])).map((s) => s.name).sort(), ['big', 'orders']);
  assert.deepEqual(
    ndjsonLines<{ name: string }>((await cli(['streams', 'ls', '--ndjson', '--prefix', 'or'])).stdout).map(
      (s) => s.name,
    ),
    ['orders'],
  );
  const described = await json<{ name: string; stats: { count: number } }>(['streams', 'describe', 'orders']);
  assert.deepEqual([described.name, described.stats.count], ['orders', 0]);
});

test('a few thousand events piped as NDJSON in batches read back whole, each request contiguous; tail follows and resumes', async () => {
  const total = 3000;
  const batch = 250;
  const file = join(fileDir, 'events.ndjson');
  const out = createWriteStream(file);
  for (let i = 0; i < total; i++)
    out.write(`${JSON.stringify({ id: `ev-${i}`, type: i % 3 ? 'tick' : 'tock', data: { i } })}\n`);
  out.end();
  await once(out, 'close');

  const summary = await json<{ events: number; failed: number; batches: number }>(
    ['produce', 'big', '--batch-events', String(batch), '--in-flight', '4'],
    { inputFile: file },
  );
  assert.deepEqual([summary.events, summary.failed, summary.batches], [total, 0, total / batch]);

  const read = await cli(['read', 'big', '--all', '--ndjson', '--page-size', '1000']);
  assert.equal(read.code, 0, read.stderr);
  const events = ndjsonLines<Event>(read.stdout);
  assert.equal(events.length, total);
  assert.deepEqual(
    events.map((e) => e.seq),
    Array.from({ length: total }, (_, k) => k + 1),
    'seqs 1..N, gap-free and ascending',
  );
  for (const e of events) assert.equal(e.id, `ev-${e.data.i}`, 'every event keeps its id');
  assert.equal(new Set(events.map((e) => e.id)).size, total, 'no id twice');
  // Batches in flight together may land in any order, but each batch (one request) is one
  // contiguous run in input order: the nats writer's expected-last-sequence chain.
  for (let start = 0; start < total; start += batch) {
    const first = events[start]!.data.i;
    assert.equal(first % batch, 0, `seq ${start + 1} starts a batch`);
    assert.deepEqual(
      events.slice(start, start + batch).map((e) => e.data.i),
      Array.from({ length: batch }, (_, k) => first + k),
    );
  }
  // The same ids again are duplicates (Nats-Msg-Id within the duplicate window): nothing is stored twice.
  const again = await cli(['produce', 'big', '--batch-events', '100', '--no-progress'], {
    input: readFileSync(file, 'utf8').split('\n').slice(0, 200).join('\n'),
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    (await json<{ stats: { count: number; lastSeq: number } }>(['streams', 'describe', 'big'])).stats.lastSeq,
    total,
  );
  const typed = await json<Event[]>(['read', 'big', '--type', 'tock', '--after', '2990', '--limit', '5']);
  assert.deepEqual(
    typed.map((e) => e.seq),
    events.filter((e) => e.seq > 2990 && e.type === 'tock').map((e) => e.seq),
  );

  // tail from the end: only new events, then a resume with --from after the last seq printed
  const tail = startCli(home, ['tail', 'big', '--ndjson']);
  await waitFor('the tail to connect', async () => {
    await produce('big', [{ type: 'probe', data: { i: -1 } }]);
    return tail.stdout().length > 0;
  });
  const probes = () => ndjsonLines<Event>(tail.stdout());
  await produce(
    'big',
    [1, 2, 3].map((i) => ({ type: 'live', data: { i } })),
  );
  await waitFor('3 live events', () => probes().filter((e) => e.type === 'live').length === 3);
  tail.child.kill('SIGINT');
  const ended = await tail.closed;
  assert.equal(ended.code, 0, ended.stderr);
  const tailed = probes();
  assert.ok(tailed[0]!.seq > total, 'nothing before the tail started');
  assert.deepEqual(
    tailed.map((e) => e.seq),
    Array.from({ length: tailed.length }, (_, k) => tailed[0]!.seq + k),
    'every seq once, in order',
  );
  const last = tailed.at(-1)!.seq;
  assert.match(ended.stderr, new RegExp(`last seq ${last} \\(resume with --from ${last + 1}`));
  await produce(
    'big',
    [4, 5].map((i) => ({ type: 'live', data: { i } })),
  );
  const resumed = await cli(['tail', 'big', '--from', String(last + 1), '--max', '2', '--ndjson']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(
    ndjsonLines<Event>(resumed.stdout).map((e) => [e.seq, e.data.i]),
    [
      [last + 1, 4],
      [last + 2, 5],
    ],
  );
});

test('consumers create, consume with acks to lag 0; schemas register and are enforced', async () => {
  await produce(
    'orders',
    [0, 1, 2, 3, 4, 5].map((i) => ({ type: i % 2 ? 'order.paid' : 'order.placed', data: { i } })),
  );
  const consumer = await json<{ name: string; types: string[]; committedSeq: number }>([
    'consumers',
    'create',
    'orders',
    'billing',
    '--type',
    'order.placed',
    '--from',
    'beginning',
    '--lease',
    '30s',
  ]);
  assert.deepEqual([consumer.name, consumer.types, consumer.committedSeq], ['billing', ['order.placed'], 0]);
  assert.deepEqual(
    (await json<{ name: string }[]>(['consumers', 'ls', 'orders'])).map((c) => c.name),
    ['billing'],
  );
  type Described = { committedSeq: number; lag: { pending: number; leased: number } };
  assert.equal((await json<Described>(['consumers', 'describe', 'orders', 'billing'])).lag.pending, 3);

  const peek = ndjsonLines<Event>((await cli(['consume', 'orders', '-c', 'billing', '--no-ack', '--ndjson'])).stdout);
  assert.deepEqual(
    peek.map((e) => e.seq),
    [1, 3, 5],
    'given back, not consumed',
  );
  const first = await json<Event[]>(['consume', 'orders', '-c', 'billing', '--max', '2', '--batch', '1']);
  assert.deepEqual(
    first.map((e) => e.seq),
    [1, 3],
  );
  const rest = await cli(['consume', 'orders', '-c', 'billing', '--ndjson']);
  assert.deepEqual(
    ndjsonLines<Event>(rest.stdout).map((e) => e.seq),
    [5],
  );
  assert.match(rest.stderr, /Received 1 event, acknowledged 1/);
  const done = await json<Described>(['consumers', 'describe', 'orders', 'billing']);
  assert.deepEqual([done.committedSeq, done.lag.pending, done.lag.leased], [6, 0, 0]);

  const schema = join(fileDir, 'placed.schema.json');
  writeFileSync(schema, JSON.stringify({ type: 'object', properties: { i: { type: 'integer' } }, required: ['i'] }));
  const registered = await json<{ type: string; version: number; created: boolean }>([
    'schemas',
    'register',
    'orders',
    'order.placed',
    '-f',
    schema,
  ]);
  assert.deepEqual([registered.type, registered.version, registered.created], ['order.placed', 1, true]);
  assert.deepEqual(
    (await json<{ type: string; latest: number }[]>(['schemas', 'ls', 'orders'])).map((s) => [s.type, s.latest]),
    [['order.placed', 1]],
  );
  const refused = await cli(['produce', 'orders', '--type', 'order.placed', '--data', '{"i":"seven"}']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /SCHEMA_VIOLATION/);
  assert.equal((await cli(['produce', 'orders', '--type', 'order.placed', '--data', '{"i":7}'])).code, 0);
  assert.equal(
    (await json<{ stats: { count: number } }>(['streams', 'describe', 'orders'])).stats.count,
    7,
    'the refused event was not stored',
  );
});

test('a sink to a real receiver: created, paused, resumed', async () => {
  const receiver = await startReceiver((_req, res) => res.writeHead(204).end());
  try {
    assert.equal((await cli(['streams', 'create', 'payments'])).code, 0);
    await produce(
      'payments',
      [1, 2, 3].map((i) => ({ type: 'paid', data: { i } })),
    );
    const seqs = () => receiver.requests.map((r) => (JSON.parse(r.body) as { seq: number }).seq).sort((a, b) => a - b);
    const created = await json<{ id: string; target: { kind: string }; state: string }>([
      'sinks',
      'create',
      '--id',
      'hook',
      '--stream',
      'payments',
      '--http',
      `${receiver.url}/hook`,
      '--from',
      'beginning',
    ]);
    assert.deepEqual([created.id, created.target.kind, created.state], ['hook', 'http', 'running']);
    await waitFor('3 deliveries', () => receiver.requests.length >= 3);
    assert.deepEqual(seqs(), [1, 2, 3]);

    type Sink = { status: string; state: string; stats: { delivered: number }; lag: { pending: number } };
    assert.equal((await json<Sink>(['sinks', 'pause', 'hook'])).status, 'paused');
    await produce(
      'payments',
      [4, 5].map((i) => ({ type: 'paid', data: { i } })),
    );
    await waitFor('the paused sink to count its backlog', async () => {
      const s = await json<Sink>(['sinks', 'describe', 'hook']);
      return s.lag.pending === 2 && s.stats.delivered === 3;
    });
    assert.equal(receiver.requests.length, 3, 'nothing is delivered while paused');
    assert.equal((await json<Sink>(['sinks', 'resume', 'hook'])).state, 'running');
    await waitFor('5 deliveries', () => receiver.requests.length >= 5);
    await waitFor(
      'the lag to reach 0',
      async () => (await json<Sink>(['sinks', 'describe', 'hook'])).lag.pending === 0,
    );
    assert.deepEqual(seqs(), [1, 2, 3, 4, 5]);
    assert.deepEqual(
      (await json<{ id: string }[]>(['sinks', 'ls'])).map((s) => s.id),
      ['hook'],
    );
    assert.equal((await cli(['sinks', 'delete', 'hook', '--yes'])).code, 0);
  } finally {
    await receiver.close();
  }
});

test('keys create, ls, revoke; exit codes for refusals and usage', async () => {
  const created = await json<{ key: { id: string; scopes: string[] }; secret: string }>([
    'keys',
    'create',
    '--owner',
    'shop',
    '--scope',
    'produce:orders',
    '--scope',
    'consume:orders',
  ]);
  assert.deepEqual(created.key.scopes, ['produce:orders', 'consume:orders']);
  assert.ok((await json<{ id: string }[]>(['keys', 'ls'])).some((k) => k.id === created.key.id));
  const asShop = { env: { RIVULET_URL: server.url, RIVULET_KEY: created.secret } };
  assert.equal((await cli(['produce', 'orders', '--type', 'order.paid', '--data', '{}'], asShop)).code, 0);
  const forbidden = await cli(['keys', 'ls'], asShop);
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.stderr, /403/);
  assert.equal((await cli(['keys', 'revoke', created.key.id])).code, 0);
  const revoked = await cli(['streams', 'ls'], asShop);
  assert.equal(revoked.code, 1);
  assert.match(revoked.stderr, /401/);

  for (const args of [
    ['read', 'nope'],
    ['tail', 'nope'],
    ['streams', 'describe', 'nope'],
    ['consumers', 'create', 'nope', 'c'],
  ]) {
    const run = await cli(args);
    assert.equal(run.code, 1, args.join(' '));
    assert.match(run.stderr, /404 STREAM_NOT_FOUND/, args.join(' '));
  }
  assert.match((await cli(['read', 'nope'])).stderr, /hint: .*streams ls/);
  const noConsumer = await cli(['consume', 'orders', '-c', 'nobody']);
  assert.equal(noConsumer.code, 1);
  assert.match(noConsumer.stderr, /404 CONSUMER_NOT_FOUND/);
  assert.equal((await cli(['streams', 'delete', 'orders'])).code, 2, 'no --yes and no terminal');
  assert.equal((await cli(['read', 'orders', '--limit', 'many'])).code, 2);
  assert.equal((await cli(['streams', 'delete', 'orders', '--yes'])).code, 0);
  assert.equal((await cli(['read', 'orders'])).code, 1, 'deleted');
});
