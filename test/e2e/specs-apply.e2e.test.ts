/**
 * Specs end to end: the built server started with `--specs-dir` and `--spec-plan-limit`, and
 * `rivulet apply` run as a real process against it: the plan as a diff, apply, prune, a
 * failed revision's exit code.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli-runner.js';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess } from '../support/server-process.js';

test('--specs-dir at start-up, then rivulet apply: dry-run diff, apply, prune, a failed revision exits 1', async () => {
  const root = tempDir('rivulet-specs');
  const specsDir = join(root, 'specs');
  mkdirSync(specsDir);
  writeFileSync(
    join(specsDir, 'shop.yaml'),
    'meta:\n  owner: acme\n  dataset: shop\nstreams:\n  - name: orders\n  - name: returns\n',
  );
  const server = await startServerProcess({
    dataDir: join(root, 'data'),
    args: ['--specs-dir', specsDir, '--spec-plan-limit', '1'],
    track,
  });
  try {
    const admin = { authorization: `Bearer ${server.adminKey}` };
    const get = async (path: string, headers: Record<string, string> = admin) => {
      const res = await fetch(server.url + path, { headers });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // the folder's spec was applied at start-up
    let r1 = await get('/v1/specs/acme/shop/revisions/1');
    for (let i = 0; i < 50 && r1.body.state !== 'SUCCEEDED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r1 = await get('/v1/specs/acme/shop/revisions/1');
    }
    assert.equal(r1.body.state, 'SUCCEEDED');
    assert.equal((await get('/v1/streams/returns')).status, 200);

    const created = await fetch(`${server.url}/v1/keys`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ owner: 'acme', scopes: ['manage:*'] }),
    });
    assert.equal(created.status, 201);
    const { secret } = (await created.json()) as { secret: string };
    const home = tempDir('rivulet-specs-home');
    const env = { RIVULET_URL: server.url, RIVULET_KEY: secret };
    const file = join(root, 'shop.yaml');
    writeFileSync(
      file,
      [
        'meta: { owner: acme, dataset: shop }',
        'streams:',
        '  - name: orders',
        '    description: web shop orders',
        '  - name: refunds',
        'schemas:',
        '  - stream: orders',
        '    type: order.created',
        '    schema: { type: object, required: [total] }',
        'sinks:',
        '  - id: orders-hook',
        '    streams: [orders]',
        '    target: { kind: http, url: "https://hooks.example.com/orders", token: "Bearer e2e-sink-secret" }',
        '',
      ].join('\n'),
    );

    const dry = await runCli(home, ['apply', '-f', file, '--dry-run'], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^Plan for acme\/shop:/);
    assert.match(dry.stdout, /^~ streams\/orders\n {4}description: "" → "web shop orders"$/m);
    assert.match(dry.stdout, /^\+ streams\/refunds$/m);
    assert.match(
      dry.stdout,
      /^\+ schemas\/orders\/order\.created\n {4}schema: \{"type":"object","required":\["total"\]\}$/m,
    );
    assert.match(dry.stdout, /streams\/returns: no longer in the spec; kept \(apply with --prune to delete it\)/);
    assert.match(
      dry.stdout,
      /^\+ sinks\/orders-hook\n {4}streams: \["orders"\]\n {4}target: \{.*"token":"\[redacted\]"/m,
    );
    assert.ok(!dry.stdout.includes('e2e-sink-secret'), 'a secret is never printed');
    assert.match(dry.stdout, /Plan: 3 to create, 1 to update, 0 to delete, 0 unchanged\./);
    assert.equal((await get('/v1/streams/refunds')).status, 404, 'a dry run changes nothing');

    const pruneDry = await runCli(home, ['apply', '-f', file, '--dry-run', '--prune'], { env });
    assert.match(pruneDry.stdout, /^- streams\/returns$/m);

    const applied = await runCli(home, ['apply', '-f', file, '--prune'], { env });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Revision acme\/shop\/2: SUCCEEDED/);
    assert.match(applied.stdout, /SUCCEEDED {2}Deleting stream returns/);
    assert.equal((await get('/v1/streams/refunds')).status, 200);
    assert.equal((await get('/v1/streams/returns')).status, 404);
    assert.equal((await get('/v1/streams/orders')).body.description, 'web shop orders');
    assert.equal((await get('/v1/sinks/orders-hook')).body.owner, 'acme');
    assert.ok(!applied.stdout.includes('e2e-sink-secret'));

    const again = await runCli(home, ['apply', '-f', file, '--json'], { env });
    assert.equal(again.code, 0, again.stderr);
    const doc = JSON.parse(again.stdout) as { id: string; state: string; pipelines: unknown[] };
    assert.deepEqual([doc.id, doc.state, doc.pipelines.length], ['acme/shop/3', 'SUCCEEDED', 0]);
    assert.ok(!again.stdout.includes('e2e-sink-secret'), 'the revision shows its spec without the secret');

    // an incompatible schema: the revision fails, the CLI exits 1 and says why
    writeFileSync(
      file,
      'meta: { owner: acme, dataset: shop }\nstreams: [{ name: orders, description: web shop orders }, { name: refunds }]\nschemas:\n  - { stream: orders, type: order.created, schema: { type: object, required: [total, currency] } }\n',
    );
    const failed = await runCli(home, ['apply', '-f', file], { env });
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /Revision acme\/shop\/4: FAILED/);
    assert.match(failed.stdout, /BACKWARD/);
    assert.match(failed.stderr, /revision acme\/shop\/4 FAILED/);

    // the plan limit (1): a second dataset of acme is refused, 403 → exit 1
    writeFileSync(file, 'meta: { owner: acme, dataset: other }\n');
    const limited = await runCli(home, ['apply', '-f', file], { env });
    assert.equal(limited.code, 1);
    assert.match(limited.stderr, /PLAN_LIMIT/);
    // a broken file is a usage error
    writeFileSync(file, 'meta: [');
    assert.equal((await runCli(home, ['apply', '-f', file], { env })).code, 2);
  } finally {
    await server.close();
  }
});
