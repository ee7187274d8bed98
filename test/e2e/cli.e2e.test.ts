/**
 * The `rivulet` client commands end to end: a real server process, and the CLI run as a real
 * process against it, its JSON outputs parsed and its exit codes checked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { readVersion } from '../../src/runtime/version.js';
import { tempDir, track } from '../support/resources.js';
import { parseJson, runCli } from '../support/cli-runner.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

/** Runs `rivulet <args>` with its own config home, so no developer profile leaks in. */
const cli = runCli;

async function withServer(fn: (server: ServerProcess, home: string) => Promise<void>): Promise<void> {
  const server = await startServerProcess({ dataDir: join(tempDir('rivulet-cli'), 'data'), track });
  try {
    const home = tempDir('rivulet-cli-home');
    const login = await cli(home, ['login', server.url], { input: `${server.adminKey}\n` });
    assert.equal(login.code, 0, login.stderr);
    await fn(server, home);
  } finally {
    await server.close();
  }
}

const parse = parseJson;

test('login keeps a private profile, status reports the server, logout forgets it', async () => {
  await withServer(async (server, home) => {
    const file = join(home, 'config', 'rivulet', 'profiles.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'config', 'rivulet')).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).profiles.default, {
      url: server.url,
      key: server.adminKey,
    });

    const status = parse<{
      url: string;
      version: string;
      store: string;
      ready: boolean;
      key: { owner: string; scopes: string[] };
      streams: number;
    }>(await cli(home, ['status', '--json']));
    assert.equal(status.url, server.url);
    assert.equal(status.version, readVersion());
    assert.equal(status.store, 'sqlite');
    assert.equal(status.ready, true);
    assert.equal(status.key.owner, 'admin');
    assert.deepEqual(status.key.scopes, ['admin']);
    assert.equal(status.streams, 0);
    const table = await cli(home, ['status']);
    assert.match(table.stdout, /Store:\s+sqlite/);

    // A second, named profile; a wrong key is refused before anything is saved.
    const named = await cli(home, ['login', server.url, '--key', server.adminKey, '--profile', 'other']);
    assert.equal(named.code, 0, named.stderr);
    const wrong = await cli(home, ['login', server.url, '--key', 'rvl_not-a-key', '--profile', 'wrong']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401/);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')).profiles).sort(), ['default', 'other']);

    assert.equal((await cli(home, ['logout'])).code, 0);
    const after = await cli(home, ['streams', 'ls']);
    assert.equal(after.code, 2, 'no profile is a configuration error');
    assert.match(after.stderr, /rivulet login/);
    // The environment stands in for a profile.
    const viaEnv = await cli(home, ['streams', 'ls', '--json'], {
      env: { RIVULET_URL: server.url, RIVULET_KEY: server.adminKey },
    });
    assert.deepEqual(parse(viaEnv), []);
    assert.equal((await cli(home, ['status', '--json', '--profile', 'other'])).code, 0);
  });
});

test('streams create, ls, describe and delete', async () => {
  await withServer(async (_server, home) => {
    const created = parse<{
      name: string;
      description: string;
      retention: Record<string, number>;
      exclusiveProducer: boolean;
    }>(
      await cli(home, [
        'streams',
        'create',
        'orders',
        '--description',
        'shop orders',
        '--retention-age',
        '7d',
        '--retention-events',
        '1000',
        '--retention-bytes',
        '1MiB',
        '--exclusive-producer',
        '--json',
      ]),
    );
    assert.equal(created.name, 'orders');
    assert.equal(created.description, 'shop orders');
    assert.deepEqual(created.retention, { maxAgeMs: 7 * 86_400_000, maxEvents: 1000, maxBytes: 1024 * 1024 });
    assert.equal(created.exclusiveProducer, true);
    assert.equal((await cli(home, ['streams', 'create', 'audit'])).code, 0);
    const again = await cli(home, ['streams', 'create', 'audit']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409/);

    const list = parse<{ name: string }[]>(await cli(home, ['streams', 'ls', '--json']));
    assert.deepEqual(list.map((s) => s.name).sort(), ['audit', 'orders']);
    const lines = (await cli(home, ['streams', 'ls', '--ndjson'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string });
    assert.equal(lines.length, 2);
    const table = (await cli(home, ['streams', 'ls'])).stdout.split('\n');
    assert.match(table[0]!, /^NAME\s+EVENTS\s+LAST SEQ\s+BYTES\s+LAST EVENT$/);
    assert.equal(table.filter((l) => /^(audit|orders)\s/.test(l)).length, 2);

    const described = parse<{ name: string; stats: { count: number } }>(
      await cli(home, ['streams', 'describe', 'orders', '--json']),
    );
    assert.equal(described.name, 'orders');
    assert.equal(described.stats.count, 0);
    assert.match(
      (await cli(home, ['streams', 'describe', 'orders'])).stdout,
      /Retention:\s+at most 7d old, 1,000 events, 1\.0 MiB/,
    );

    const unconfirmed = await cli(home, ['streams', 'delete', 'audit']);
    assert.equal(unconfirmed.code, 2, 'no --yes and no terminal');
    assert.match(unconfirmed.stderr, /--yes/);
    assert.equal((await cli(home, ['streams', 'delete', 'audit', '--yes'])).code, 0);
    const gone = await cli(home, ['streams', 'describe', 'audit']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /404/);
  });
});

test('produce from arguments and CloudEvents from stdin, read back as JSON', async () => {
  await withServer(async (_server, home) => {
    assert.equal((await cli(home, ['streams', 'create', 'orders'])).code, 0);
    const one = await cli(home, [
      'produce',
      'orders',
      '--type',
      'order.placed',
      '--data',
      '{"total":9.5}',
      '--source',
      '/shop',
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /Produced 1 new event \(/);
    const ce = [
      { specversion: '1.0', id: 'ce-1', source: '/ce', type: 'order.paid', data: { n: 1 } },
      { specversion: '1.0', id: 'ce-2', source: '/ce', type: 'order.shipped', data: { n: 2 } },
    ];
    const summary = parse<{ events: number; new: number; duplicates: number; failed: number }>(
      await cli(home, ['produce', 'orders', '--json'], { input: JSON.stringify(ce, null, 2) }),
    );
    assert.deepEqual([summary.events, summary.new, summary.duplicates, summary.failed], [2, 2, 0, 0]);

    const events = parse<{ seq: number; id: string; type: string; source: string; data: unknown }[]>(
      await cli(home, ['read', 'orders', '--json']),
    );
    assert.deepEqual(
      events.map((e) => [e.seq, e.type, e.source, e.data]),
      [
        [1, 'order.placed', '/shop', { total: 9.5 }],
        [2, 'order.paid', '/ce', { n: 1 }],
        [3, 'order.shipped', '/ce', { n: 2 }],
      ],
    );
    assert.equal(events[1]!.id, 'ce-1');
    const filtered = parse<{ seq: number }[]>(
      await cli(home, ['read', 'orders', '--type', 'order.paid', '--type', 'order.shipped', '--after', '2', '--json']),
    );
    assert.deepEqual(
      filtered.map((e) => e.seq),
      [3],
    );
    const table = (await cli(home, ['read', 'orders', '--limit', '2'])).stdout.trim().split('\n');
    assert.equal(table.length, 3);
    assert.match(table[0]!, /^SEQ\s+TIME\s+TYPE\s+ID\s+DATA$/);
    // sent again: the stream already holds them, and the summary says so
    const again = await cli(home, ['produce', 'orders'], { input: JSON.stringify(ce) });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Produced 0 new events and 2 duplicates \(already in the stream, not stored again\)/);

    const badData = await cli(home, ['produce', 'orders', '--type', 't', '--data', '{oops']);
    assert.equal(badData.code, 2);
    const badInput = await cli(home, ['produce', 'orders'], { input: '{"type":"t"}\n42\n' });
    assert.equal(badInput.code, 2);
    assert.match(badInput.stderr, /line 2/);
  });
});

test('a large NDJSON file piped through produce reads back whole and in order', async () => {
  await withServer(async (_server, home) => {
    assert.equal((await cli(home, ['streams', 'create', 'big'])).code, 0);
    const total = 20_000;
    const file = join(tempDir('rivulet-cli-input'), 'events.ndjson');
    const out = createWriteStream(file);
    for (let i = 1; i <= total; i++)
      out.write(`${JSON.stringify({ type: i % 2 ? 'odd' : 'even', data: { i, pad: 'x'.repeat(40) } })}\n`);
    out.end();
    await once(out, 'close');

    const summary = parse<{ events: number; failed: number; batches: number; bytes: number; eventsPerSecond: number }>(
      await cli(home, ['produce', 'big', '--json', '--batch-events', '700'], { inputFile: file }),
    );
    assert.equal(summary.events, total);
    assert.equal(summary.failed, 0);
    assert.equal(summary.batches, Math.ceil(total / 700));
    assert.ok(summary.bytes > 0 && summary.eventsPerSecond > 0);

    const read = await cli(home, ['read', 'big', '--all', '--ndjson', '--page-size', '3000']);
    assert.equal(read.code, 0, read.stderr);
    const events = read.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; data: { i: number } });
    assert.equal(events.length, total);
    assert.deepEqual(
      events.map((e) => e.seq),
      Array.from({ length: total }, (_, k) => k + 1),
      'seq is gap-free and ascending',
    );
    // Several batches are in flight, so batches may land out of input order; each batch keeps its own.
    assert.deepEqual(
      events.map((e) => e.data.i).sort((a, b) => a - b),
      Array.from({ length: total }, (_, k) => k + 1),
    );

    // --ordered keeps the input order exactly, here from a JSON array file.
    assert.equal((await cli(home, ['streams', 'create', 'ordered'])).code, 0);
    const arrayFile = join(tempDir('rivulet-cli-input'), 'events.json');
    writeFileSync(arrayFile, JSON.stringify(Array.from({ length: 3000 }, (_, k) => ({ type: 't', data: { i: k } }))));
    const ordered = await cli(home, ['produce', 'ordered', '-f', arrayFile, '--ordered', '--batch-events', '250']);
    assert.equal(ordered.code, 0, ordered.stderr);
    assert.match(ordered.stderr, /Produced 3,000 new events/);
    const back = parse<{ data: { i: number } }[]>(await cli(home, ['read', 'ordered', '--all', '--json']));
    assert.deepEqual(
      back.map((e) => e.data.i),
      Array.from({ length: 3000 }, (_, k) => k),
    );
  });
});

test('keys ls, create and revoke', async () => {
  await withServer(async (server, home) => {
    const created = parse<{ key: { id: string; owner: string; scopes: string[] }; secret: string }>(
      await cli(home, [
        'keys',
        'create',
        '--owner',
        'shop',
        '--scope',
        'produce:orders',
        '--scope',
        'consume:orders',
        '--name',
        'shop writer',
        '--json',
      ]),
    );
    assert.equal(created.key.owner, 'shop');
    assert.deepEqual(created.key.scopes, ['produce:orders', 'consume:orders']);
    const list = parse<{ id: string }[]>(await cli(home, ['keys', 'ls', '--json']));
    assert.ok(list.some((k) => k.id === created.key.id));
    const asShop = { RIVULET_URL: server.url, RIVULET_KEY: created.secret };
    const forbidden = await cli(home, ['keys', 'ls'], { env: asShop });
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /403/);
    assert.equal((await cli(home, ['keys', 'revoke', created.key.id])).code, 0);
    const revoked = await cli(home, ['streams', 'ls'], { env: asShop });
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /rivulet login/);
    const noScope = await cli(home, ['keys', 'create', '--owner', 'x']);
    assert.equal(noScope.code, 2);
  });
});

test('exit codes: refused 1 with a hint, usage 2, unreachable 3', async () => {
  await withServer(async (server, home) => {
    const unknown = await cli(home, ['read', 'nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /404 STREAM_NOT_FOUND/);
    assert.match(unknown.stderr, /hint: .*streams ls/);

    const badKey = await cli(home, ['streams', 'ls'], { env: { RIVULET_KEY: 'rvl_wrong' } });
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /401/);
    assert.match(badKey.stderr, /run `rivulet login/);

    assert.equal((await cli(home, ['streams', 'frobnicate'])).code, 2);
    assert.equal((await cli(home, ['read', 'x', '--limit', 'many'])).code, 2);
    assert.equal((await cli(home, ['streams', 'create', 'x', '--retention-age', 'soon'])).code, 2);
    assert.equal((await cli(home, ['read', 'x', '--profile', 'missing'])).code, 2);
    assert.equal((await cli(home, ['--help'])).code, 0);
    assert.equal((await cli(home, ['produce', '--help'])).code, 0);

    const port = await closedPort();
    const unreachable = await cli(home, ['status'], {
      env: { RIVULET_URL: `http://127.0.0.1:${port}`, RIVULET_KEY: server.adminKey },
    });
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /cannot reach/);
  });
});

test('completion scripts come from the command tree', async () => {
  const home = tempDir('rivulet-cli-home');
  const bash = await cli(home, ['completion', 'bash']);
  assert.equal(bash.code, 0);
  assert.match(bash.stdout, /complete -F _rivulet_complete rivulet/);
  assert.match(bash.stdout, /'streams create'\) words='[^']*--retention-age/);
  assert.match(bash.stdout, /'keys'\) words='ls list create revoke/);
  if (spawnSync('bash', ['--version']).status === 0) {
    const file = join(home, 'rivulet.bash');
    writeFileSync(file, bash.stdout);
    assert.equal(spawnSync('bash', ['-n', file]).status, 0, 'the bash script parses');
  }
  const zsh = await cli(home, ['completion', 'zsh']);
  assert.match(zsh.stdout, /^#compdef rivulet\n.*bashcompinit/);
  assert.equal((await cli(home, ['completion', 'fish'])).code, 2);
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}
