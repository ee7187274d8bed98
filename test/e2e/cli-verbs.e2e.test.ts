/**
 * The `rivulet` verbs beyond streams/produce/read, end to end: one real server process for
 * the file (restarted once, on the same port, for `tail`), the CLI run as real processes, a
 * real HTTP receiver on port 0 for sinks. JSON outputs are parsed and checked.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { tempDir, track } from '../support/resources.js';
import { ndjsonLines, parseJson, startCli, waitFor, type CliRun, type RunningCli } from '../support/cli-runner.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

// Not under `track`: the server lives for the whole file and is closed in `after`.
let server: ServerProcess;
let home: string;
let dataDir: string;

/** Starts `rivulet <args>` with the file's config home, so no developer profile leaks in. */
const start = (args: string[], input = ''): RunningCli => startCli(home, args, { input });
const cli = (args: string[], input?: string): Promise<CliRun> => start(args, input).closed;
const parse = parseJson;
const lines = ndjsonLines;

async function produce(stream: string, count: number, type = 't'): Promise<void> {
  const input = Array.from({ length: count }, (_, i) => JSON.stringify({ type, data: { i } })).join('\n');
  const run = await cli(['produce', stream, '--ordered', '--no-progress'], input);
  assert.equal(run.code, 0, run.stderr);
}

async function serve(port = 0): Promise<ServerProcess> {
  return startServerProcess({ dataDir, args: ['--sink-allow-loopback', ...(port ? ['--port', String(port)] : [])] });
}

// The file's own directories: `tempDir` ones are removed after each passing test. Kept when a test failed.
let fileDir: string;
let failed = false;
afterEach((t) => {
  if ((t as unknown as { passed?: boolean }).passed === false) failed = true;
});

before(async () => {
  fileDir = mkdtempSync(join(tmpdir(), 'rivulet-cli-verbs-'));
  dataDir = join(fileDir, 'data');
  home = join(fileDir, 'home');
  server = await serve();
  const login = await cli(['login', server.url], `${server.adminKey}\n`);
  assert.equal(login.code, 0, login.stderr);
});

after(async () => {
  await server?.close();
  if (failed) process.stderr.write(`# kept test data: ${fileDir}\n`);
  else rmSync(fileDir, { recursive: true, force: true });
});

test('consumers create, ls, describe, seek, delete; consume with acks brings the lag to 0', async () => {
  assert.equal((await cli(['streams', 'create', 'orders'])).code, 0);
  await produce('orders', 5, 'order.placed');
  await produce('orders', 2, 'order.paid');

  const created = parse<{
    name: string;
    stream: string;
    types: string[];
    leaseMs: number;
    maxDeliveries: number;
    committedSeq: number;
  }>(
    await cli([
      'consumers',
      'create',
      'orders',
      'billing',
      '--type',
      'order.placed',
      '--from',
      'beginning',
      '--lease',
      '1m',
      '--max-deliveries',
      '3',
      '--json',
    ]),
  );
  assert.deepEqual(
    [created.name, created.stream, created.types, created.leaseMs, created.maxDeliveries, created.committedSeq],
    ['billing', 'orders', ['order.placed'], 60_000, 3, 0],
  );
  assert.equal((await cli(['consumers', 'create', 'orders', 'billing'])).code, 1, 'a taken name is refused');
  assert.deepEqual(
    parse<{ name: string }[]>(await cli(['consumers', 'ls', 'orders', '--json'])).map((c) => c.name),
    ['billing'],
  );
  const table = (await cli(['consumers', 'ls', 'orders'])).stdout.split('\n');
  assert.match(table[0]!, /^NAME\s+TYPES\s+COMMITTED\s+PENDING\s+LEASED\s+OLDEST UNACKED$/);
  assert.match(table[1]!, /^billing\s+order\.placed\s+0\s+5\s+0\s/);

  // --no-ack prints and gives back: nothing consumed
  const peek = lines<{ seq: number }>(
    (await cli(['consume', 'orders', '--consumer', 'billing', '--no-ack', '--max', '2', '--ndjson'])).stdout,
  );
  assert.deepEqual(
    peek.map((e) => e.seq),
    [1, 2],
  );
  type Described = { committedSeq: number; lag: { pending: number; leased: number } };
  assert.deepEqual(
    parse<Described>(await cli(['consumers', 'describe', 'orders', 'billing', '--json'])).lag.pending,
    5,
  );

  const first = parse<{ seq: number; type: string }[]>(
    await cli(['consume', 'orders', '-c', 'billing', '--max', '3', '--batch', '2', '--json']),
  );
  assert.deepEqual(
    first.map((e) => e.seq),
    [1, 2, 3],
  );
  const rest = await cli(['consume', 'orders', '-c', 'billing', '--ndjson']);
  assert.equal(rest.code, 0, rest.stderr);
  assert.deepEqual(
    lines<{ seq: number; type: string }>(rest.stdout).map((e) => [e.seq, e.type]),
    [
      [4, 'order.placed'],
      [5, 'order.placed'],
    ],
  );
  assert.match(rest.stderr, /Received 2 events, acknowledged 2/);
  const done = parse<Described>(await cli(['consumers', 'describe', 'orders', 'billing', '--json']));
  // the position passes the order.paid events too: they do not match the consumer's filter
  assert.deepEqual([done.committedSeq, done.lag.pending, done.lag.leased], [7, 0, 0], 'every matching event acked');
  assert.match((await cli(['consume', 'orders', '-c', 'billing'])).stderr, /No events/);

  // --follow waits for new events until stopped
  const follow = start(['consume', 'orders', '-c', 'billing', '--follow', '--ndjson', '--poll-interval', '200ms']);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await produce('orders', 2, 'order.placed');
  await waitFor('followed events', () => follow.stdout().split('\n').filter(Boolean).length === 2);
  follow.child.kill('SIGINT');
  const followed = await follow.closed;
  assert.equal(followed.code, 0, followed.stderr);
  assert.deepEqual(
    lines<{ seq: number }>(followed.stdout).map((e) => e.seq),
    [8, 9],
  );
  await waitFor(
    'acks of followed events',
    async () => parse<Described>(await cli(['consumers', 'describe', 'orders', 'billing', '--json'])).lag.pending === 0,
  );

  const sought = parse<{ committedSeq: number }>(
    await cli(['consumers', 'seek', 'orders', 'billing', '--to', '4', '--json']),
  );
  assert.equal(sought.committedSeq, 3);
  assert.deepEqual(
    lines<{ seq: number }>((await cli(['consume', 'orders', '-c', 'billing', '--no-ack', '--ndjson'])).stdout).map(
      (e) => e.seq,
    ),
    [4, 5, 8, 9],
  );

  assert.equal((await cli(['consumers', 'delete', 'orders', 'billing'])).code, 2, 'no --yes and no terminal');
  assert.equal((await cli(['consumers', 'delete', 'orders', 'billing', '--yes'])).code, 0);
  const gone = await cli(['consumers', 'describe', 'orders', 'billing']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /404 CONSUMER_NOT_FOUND/);
  assert.match(gone.stderr, /hint: .*consumers ls/);
  assert.equal((await cli(['consume', 'orders'])).code, 2, '--consumer is required');
  assert.equal((await cli(['consume', 'orders', '-c', 'x', '--no-ack', '--follow'])).code, 2);
  assert.equal((await cli(['consumers', 'seek', 'orders', 'x', '--to', 'yesterday'])).code, 2);
});

test('sinks against a real receiver: create, pause, resume, replay, attempts, seek, delete', async () => {
  const received: { seq: number; webhookId: string; signature?: string; path?: string }[] = [];
  const receiver = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({
        seq: (JSON.parse(body) as { seq: number }).seq,
        webhookId: String(req.headers['webhook-id']),
        signature: req.headers['webhook-signature'] as string | undefined,
        path: req.url,
      });
      res.writeHead(204).end();
    });
  });
  let receiverClosed = false;
  track('sink receiver', receiver, () => receiverClosed);
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  try {
    assert.equal((await cli(['streams', 'create', 'payments'])).code, 0);
    await produce('payments', 3);
    const created = parse<{
      id: string;
      streams: string[];
      target: { kind: string; url: string };
      state: string;
      status: string;
    }>(
      await cli([
        'sinks',
        'create',
        '--id',
        'hook',
        '--stream',
        'payments',
        '--http',
        url,
        '--from',
        'beginning',
        '--json',
      ]),
    );
    assert.deepEqual(
      [created.id, created.streams, created.target.kind, created.target.url, created.state],
      ['hook', ['payments'], 'http', url, 'running'],
    );
    // the status it settles in once a server process holds it, not "stopped"
    assert.equal(created.status, 'running');
    // the sink's internal streams are listed only with --all
    await waitFor('the attempt log stream', async () =>
      parse<{ name: string }[]>(await cli(['streams', 'ls', '--all', '--json'])).some((x) =>
        x.name.startsWith('_sink.hook'),
      ),
    );
    assert.ok(!parse<{ name: string }[]>(await cli(['streams', 'ls', '--json'])).some((x) => x.name.startsWith('_')));
    assert.match((await cli(['streams', 'ls'])).stderr, /internal streams? not shown; --all lists them/);
    await waitFor('3 deliveries', () => received.length === 3);
    assert.deepEqual(received.map((r) => r.seq).sort(), [1, 2, 3]);

    type Sink = { id: string; status: string; state: string; stats: { delivered: number }; lag: { pending: number } };
    const paused = parse<Sink>(await cli(['sinks', 'pause', 'hook', '--json']));
    assert.equal(paused.status, 'paused');
    await produce('payments', 2);
    await waitFor('the paused sink to report its counts', async () => {
      const s = parse<Sink>(await cli(['sinks', 'describe', 'hook', '--json']));
      return s.lag.pending === 2 && s.stats.delivered === 3;
    });
    assert.equal(received.length, 3, 'nothing is delivered while paused');
    const table = (await cli(['sinks', 'ls'])).stdout.split('\n');
    assert.match(table[0]!, /^ID\s+STATUS\s+STREAMS\s+TARGET\s+DELIVERED\s+FAILED\s+DEAD\s+PENDING$/);
    assert.match(table[1]!, /^hook\s+paused\s+payments\s+http http:\/\/127\.0\.0\.1:\d+\/hook\s+3\s+0\s+0\s+2$/);

    const resumed = await cli(['sinks', 'resume', 'hook']);
    assert.match(resumed.stdout, /Sink "hook" resumed \(running; \d+ pending\)/);
    await waitFor('5 deliveries', () => received.length === 5);
    await waitFor('stats and lag to settle', async () => {
      const s = parse<Sink>(await cli(['sinks', 'describe', 'hook', '--json']));
      return s.lag.pending === 0 && s.stats.delivered === 5;
    });
    assert.deepEqual(
      parse<{ id: string }[]>(await cli(['sinks', 'ls', '--json'])).map((s) => s.id),
      ['hook'],
    );
    assert.match((await cli(['sinks', 'describe', 'hook'])).stdout, /Delivered:\s+5 events/);

    const replay = parse<{ job: { kind: string; fromSeq: number; toSeq: number } }>(
      await cli(['sinks', 'replay', 'hook', '--stream', 'payments', '--from-seq', '1', '--to-seq', '2', '--json']),
    );
    assert.deepEqual([replay.job.kind, replay.job.fromSeq, replay.job.toSeq], ['replay', 1, 2]);
    await waitFor('2 replayed deliveries', () => received.length === 7);
    const ids = new Map(received.slice(0, 5).map((r) => [r.seq, r.webhookId]));
    for (const r of received.slice(5)) assert.equal(r.webhookId, ids.get(r.seq), 'a replay keeps the delivery id');

    await waitFor(
      'the attempt log',
      async () => parse<unknown[]>(await cli(['sinks', 'attempts', 'hook', '--json'])).length >= 7,
    );
    const attempts = parse<{ stream: string; seq: number; outcome: string; status: number | null }[]>(
      await cli(['sinks', 'attempts', 'hook', '--seq', '4', '--json']),
    );
    assert.ok(
      attempts.length >= 1 && attempts.every((a) => a.seq === 4 && a.stream === 'payments' && a.status === 204),
      JSON.stringify(attempts),
    );
    assert.deepEqual(parse<{ jobs: unknown[] }>(await cli(['sinks', 'retry-dead-letters', 'hook', '--json'])).jobs, []);
    assert.equal(parse<Sink>(await cli(['sinks', 'seek', 'hook', '--to', 'end', '--json'])).id, 'hook');

    // a sink from a YAML file, into a stream
    assert.equal((await cli(['streams', 'create', 'payments.copy'])).code, 0);
    const file = join(tempDir('rivulet-cli-verbs-input'), 'copy.yaml');
    writeFileSync(
      file,
      'id: copy\nstreams: [payments]\ntarget:\n  kind: stream\n  stream: payments.copy\nstart:\n  from: beginning\nstate: paused\n',
    );
    const fromFile = parse<{ id: string; target: { kind: string; stream: string }; status: string }>(
      await cli(['sinks', 'create', '-f', file, '--json']),
    );
    assert.deepEqual(
      [fromFile.id, fromFile.target.kind, fromFile.target.stream, fromFile.status],
      ['copy', 'stream', 'payments.copy', 'paused'],
    );
    assert.equal((await cli(['sinks', 'create', '-f', file, '--stream', 'x'])).code, 2, 'file and flags do not mix');

    // `start: end` in YAML as --from takes it, and a signing secret by flag: only new events, signed
    const signed = join(tempDir('rivulet-cli-verbs-input'), 'signed.yaml');
    writeFileSync(signed, `id: signed\nstreams: [payments]\ntarget:\n  kind: http\n  url: ${url}/signed\nstart: end\n`);
    const secret = `whsec_${Buffer.from('a signing secret of 32 bytes....').toString('base64')}`;
    const made = await cli(['sinks', 'create', '-f', signed, '--signing-secret', secret]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /Sink "signed" created \(running\)/);
    assert.doesNotMatch(made.stdout, new RegExp(secret.slice(6, 20)));
    await produce('payments', 1);
    await waitFor('a signed delivery', () => received.some((r) => r.path === '/hook/signed'));
    const delivered = received.filter((r) => r.path === '/hook/signed');
    assert.equal(delivered.length, 1, 'start: end skipped the earlier events');
    assert.match(delivered[0]!.signature ?? '', /^v1,/);
    assert.equal(
      (await cli(['sinks', 'create', '--stream', 'payments', '--to-stream', 'x', '--signing-secret', secret])).code,
      2,
      '--signing-secret goes with --http',
    );
    assert.equal((await cli(['sinks', 'delete', 'signed', '--yes'])).code, 0);
    assert.equal((await cli(['sinks', 'create', '--stream', 'payments'])).code, 2, 'a target is needed');

    assert.equal((await cli(['sinks', 'delete', 'hook', '--yes'])).code, 0);
    assert.equal((await cli(['sinks', 'delete', 'copy', '--yes'])).code, 0);
    const gone = await cli(['sinks', 'pause', 'hook']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /404 SINK_NOT_FOUND/);
    assert.match(gone.stderr, /hint: .*sinks ls/);
  } finally {
    receiver.closeAllConnections();
    receiver.close();
    await once(receiver, 'close');
    receiverClosed = true;
  }
});

test('schemas register, ls, describe, compatibility, delete', async () => {
  assert.equal((await cli(['streams', 'create', 'shop'])).code, 0);
  const dir = tempDir('rivulet-cli-verbs-input');
  const v1 = join(dir, 'v1.json');
  writeFileSync(v1, JSON.stringify({ type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }));
  const first = parse<{ type: string; version: number; created: boolean; urn: string }>(
    await cli(['schemas', 'register', 'shop', 'order/placed', '-f', v1, '--json']),
  );
  assert.deepEqual([first.type, first.version, first.created], ['order/placed', 1, true]);
  assert.equal(
    parse<{ created: boolean }>(await cli(['schemas', 'register', 'shop', 'order/placed', '-f', v1, '--json'])).created,
    false,
    'idempotent',
  );

  const v2 = join(dir, 'v2.yaml');
  writeFileSync(v2, 'type: object\nproperties:\n  id: {type: integer}\n  note: {type: string}\nrequired: [id]\n');
  assert.equal(
    parse<{ version: number }>(
      await cli(['schemas', 'register', 'shop', 'order/placed', '-f', v2, '--compatibility', 'none', '--json']),
    ).version,
    2,
  );
  const incompatible = join(dir, 'v3.json');
  writeFileSync(
    incompatible,
    JSON.stringify({ type: 'object', properties: { id: { type: 'string' } }, required: ['id', 'name'] }),
  );
  const refused = await cli([
    'schemas',
    'register',
    'shop',
    'order/placed',
    '-f',
    incompatible,
    '--compatibility',
    'FULL',
  ]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /409 SCHEMA_INCOMPATIBLE/);

  const list = parse<{ type: string; latest: number; versions: number[]; compatibility: string }[]>(
    await cli(['schemas', 'ls', 'shop', '--json']),
  );
  assert.deepEqual(
    list.map((t) => [t.type, t.latest, t.versions, t.compatibility]),
    [['order/placed', 2, [1, 2], 'NONE']],
  );
  const described = parse<{
    version: number;
    schema: { properties: Record<string, unknown> };
    versions: { version: number }[];
  }>(await cli(['schemas', 'describe', 'shop', 'order/placed', '--json']));
  assert.equal(described.version, 2);
  assert.deepEqual(Object.keys(described.schema.properties), ['id', 'note']);
  assert.equal(
    parse<{ version: number }>(await cli(['schemas', 'describe', 'shop', 'order/placed', '1', '--json'])).version,
    1,
  );
  assert.match((await cli(['schemas', 'describe', 'shop', 'order/placed'])).stdout, /URN:\s+\S+/);
  assert.equal(
    parse<{ compatibility: string }>(
      await cli(['schemas', 'compatibility', 'shop', 'order/placed', 'default', '--json']),
    ).compatibility,
    'BACKWARD',
  );

  // enforcement is live: an event without the required id is refused
  assert.equal((await cli(['produce', 'shop', '--type', 'order/placed', '--data', '{"note":"x"}'])).code, 1);
  assert.equal((await cli(['schemas', 'delete', 'shop', 'order/placed', '1', '--yes'])).code, 0);
  assert.deepEqual(parse<{ versions: number[] }[]>(await cli(['schemas', 'ls', 'shop', '--json']))[0]!.versions, [2]);
  const missing = await cli(['schemas', 'describe', 'shop', 'order/none']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /404/);
  assert.equal((await cli(['schemas', 'register', 'shop', 't', '-f', join(dir, 'missing.json')])).code, 2);
  assert.equal((await cli(['schemas', 'register', 'shop', 't', '-f', v1, '--compatibility', 'SOMETIMES'])).code, 2);
});

test('rules create, ls, describe, validate, disable, enable, delete', async () => {
  // an action target is the one thing the CLI does not manage: made through the API
  const target = await fetch(`${server.url}/v1/action-targets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'lamp', url: 'http://127.0.0.1:9/lamp' }),
  });
  assert.equal(target.status, 201, await target.clone().text());
  const { id: targetId } = (await target.json()) as { id: string };
  const file = join(tempDir('rivulet-cli-verbs-input'), 'rule.yaml');
  writeFileSync(
    file,
    [
      'id: hot-rooms',
      'name: hot rooms',
      'conditions:',
      '  - expression: data.temperature > 25',
      'actions:',
      `  - actionTargetId: ${targetId}`,
      '    actionTypeId: /actionTypes/blink',
      '    transform: \'{"times": 3}\'',
    ].join('\n'),
  );
  type Rule = { id: string; name: string; status: string; enabled: boolean; conditions: unknown[]; actions: unknown[] };
  const created = parse<Rule>(await cli(['rules', 'create', '-f', file, '--json']));
  assert.deepEqual(
    [created.id, created.name, created.enabled, created.conditions.length, created.actions.length],
    ['hot-rooms', 'hot rooms', true, 1, 1],
  );
  assert.deepEqual(
    parse<Rule[]>(await cli(['rules', 'ls', '--json'])).map((r) => r.id),
    ['hot-rooms'],
  );
  assert.equal(parse<Rule>(await cli(['rules', 'describe', 'hot-rooms', '--json'])).name, 'hot rooms');

  const hot = JSON.stringify({
    timestamp: '2024-05-01T10:00:00Z',
    source: '/sensors/1',
    type: '/eventTypes/temperature',
    properties: { temperature: 30 },
  });
  const matched = parse<{ matchedConditions: unknown[]; matchedActions: { type: string; properties: unknown }[] }>(
    await cli(['rules', 'validate', 'hot-rooms', '--event', hot, '--json']),
  );
  assert.equal(matched.matchedConditions.length, 1);
  assert.deepEqual(
    matched.matchedActions.map((a) => [a.type, a.properties]),
    [['/actionTypes/blink', { times: 3 }]],
  );
  const cold = await cli(['rules', 'validate', 'hot-rooms', '--event', hot.replace('30', '10')]);
  assert.equal(cold.code, 1);
  assert.match(cold.stderr, /422 RULE_NOT_MATCHED/);
  assert.equal((await cli(['rules', 'validate', 'hot-rooms'])).code, 2, 'an event is needed');

  assert.equal(parse<Rule>(await cli(['rules', 'disable', 'hot-rooms', '--json'])).status, 'disabled');
  const enabled = parse<Rule>(await cli(['rules', 'enable', 'hot-rooms', '--from', 'beginning', '--json']));
  assert.equal(enabled.enabled, true);
  assert.equal((await cli(['rules', 'enable', 'hot-rooms', '--from', '12'])).code, 2);
  assert.equal((await cli(['rules', 'delete', 'hot-rooms', '--yes'])).code, 0);
  const gone = await cli(['rules', 'describe', 'hot-rooms']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /404/);
});

test('tail follows live, reconnects across a server restart without gaps or repeats, and resumes from a state file', async () => {
  assert.equal((await cli(['streams', 'create', 'live'])).code, 0);
  await produce('live', 3);
  const state = join(tempDir('rivulet-cli-verbs-state'), 'live.seq');
  const tail = start(['tail', 'live', '--from', '2', '--ndjson', '--resume', state, '--max-backoff', '300ms']);
  const seqs = () => lines<{ seq: number }>(tail.stdout()).map((e) => e.seq);
  await waitFor('the backlog', () => seqs().length === 2);
  assert.match(tail.stderr(), /Following "live" after seq 1 \(from .*live\.seq\); waiting for events/);
  await produce('live', 2);
  await waitFor('live events', () => seqs().length === 4);

  // kill -9 and start again on the same port; the tail reconnects with Last-Event-ID
  const port = Number(new URL(server.url).port);
  await server.kill('SIGKILL');
  await waitFor('the tail to notice', () => /reconnecting after seq 5/.test(tail.stderr()));
  server = await serve(port);
  await produce('live', 3);
  await waitFor('events after the restart', () => seqs().length === 7, 15_000);
  tail.child.kill('SIGINT');
  const ended = await tail.closed;
  assert.equal(ended.code, 0, ended.stderr);
  assert.deepEqual(seqs(), [2, 3, 4, 5, 6, 7, 8], 'every seq once, in order');
  assert.match(ended.stderr, /last seq 8 \(resume with --from 9 or --resume/);
  assert.deepEqual(JSON.parse(readFileSync(state, 'utf8')), { stream: 'live', lastSeq: 8 });

  // a new run with the state file starts after the last seq printed
  await produce('live', 2);
  const resumed = await cli(['tail', 'live', '--resume', state, '--from', 'beginning', '--max', '2', '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(
    lines<{ seq: number }>(resumed.stdout).map((e) => e.seq),
    [9, 10],
  );
  assert.equal(JSON.parse(readFileSync(state, 'utf8')).lastSeq, 10);

  // --type filters; the table mode prints one line per event
  await produce('live', 1, 'other');
  const typed = await cli(['tail', 'live', '--from', 'beginning', '--type', 'other', '--max', '1']);
  assert.match(typed.stdout, /^\s+11\s+\S+\s+other\s+\{"i":0\}\n$/);

  const unknown = await cli(['tail', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /404 STREAM_NOT_FOUND/);
  assert.equal((await cli(['tail', 'live', '--from', 'soon'])).code, 2);
  assert.equal(
    (await cli(['tail', 'other', '--resume', state])).code,
    2,
    'a state file of another stream is a usage error',
  );
});

test('every new command has --help, and completion knows them', async () => {
  for (const args of [
    ['tail'],
    ['consume'],
    ['consumers', 'seek'],
    ['sinks', 'create'],
    ['sinks', 'replay'],
    ['schemas', 'register'],
    ['rules', 'validate'],
  ]) {
    const help = await cli([...args, '--help']);
    assert.equal(help.code, 0, args.join(' '));
    assert.match(help.stdout, /Usage: rivulet/);
  }
  const bash = (await cli(['completion', 'bash'])).stdout;
  assert.match(
    bash,
    /'sinks'\) words='ls list create describe delete pause resume seek replay retry-dead-letters attempts/,
  );
  assert.match(bash, /'tail'\) words='[^']*--resume/);
  assert.match(bash, /'consumers'\) words='ls list create describe seek delete/);
  assert.match(bash, /'rules'\) words='ls list describe create delete enable disable validate/);
});
