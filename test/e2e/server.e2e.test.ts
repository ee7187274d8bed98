/**
 * The built server as a real process, driven by a real HTTP client (undici) and by the
 * official CloudEvents SDK as a producer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { fetch } from 'undici';
import { OPTIONS } from '../../src/config/options.js';
import { tempDir, track } from '../support/resources.js';
import { SERVER_MAIN, startServerProcess, type ServerProcess } from '../support/server-process.js';

async function withServer(body: (server: ServerProcess, auth: Record<string, string>) => Promise<void>): Promise<void> {
  const server = await startServerProcess({ dataDir: tempDir('rivulet-e2e'), track });
  try {
    await body(server, { authorization: `Bearer ${server.adminKey}` });
  } finally {
    await server.kill();
  }
}

describe('rivulet serve (built, as a process)', () => {
  it('documents every option in serve --help', () => {
    const help = spawnSync(process.execPath, [SERVER_MAIN, 'serve', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    for (const spec of OPTIONS) {
      assert.ok(help.stdout.includes(spec.flag), `--help lacks ${spec.flag}`);
      assert.ok(help.stdout.includes(spec.env), `--help lacks ${spec.env}`);
    }
    assert.match(help.stdout, /--config/);
  });

  it('writes an 0600 admin key file on first start and serves the native API with it', async () => {
    await withServer(async (server, auth) => {
      const { statSync } = await import('node:fs');
      assert.equal(statSync(`${server.dataDir}/admin.key`).mode & 0o777, 0o600);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${server.url}/v1/streams`)).status, 401);
      const created = await fetch(`${server.url}/v1/streams`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'e2e' }),
      });
      assert.equal(created.status, 201);
      const produced = await fetch(`${server.url}/v1/streams/e2e/events`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'x-producer-id': 'e2e' },
        body: JSON.stringify([
          { type: 'a', data: 1 },
          { type: 'b', data: 2 },
        ]),
      });
      assert.equal(produced.status, 201);
      const read = await fetch(`${server.url}/v1/streams/e2e/events?limit=10`, { headers: auth });
      const body = (await read.json()) as { events: { seq: number; data: number; producer: string }[] };
      assert.deepEqual(
        body.events.map((e) => [e.seq, e.data, e.producer]),
        [
          [1, 1, 'e2e'],
          [2, 2, 'e2e'],
        ],
      );
    });
  });

  it('accepts events from the official CloudEvents SDK in binary and structured mode', async () => {
    await withServer(async (server, auth) => {
      await fetch(`${server.url}/v1/streams`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'ce' }),
      });
      const post = async (message: { headers: Record<string, unknown>; body: unknown }) => {
        const res = await fetch(`${server.url}/v1/streams/ce/events`, {
          method: 'POST',
          headers: { ...(message.headers as Record<string, string>), ...auth },
          body: message.body as string | Uint8Array,
        });
        assert.equal(res.status, 201, await res.clone().text());
        return ((await res.json()) as { events: { id: string }[] }).events[0]!.id;
      };
      const json = new CloudEvent({ type: 'com.example.json', source: '/sdk', subject: 'one', data: { a: 1 } });
      const text = new CloudEvent({
        type: 'com.example.text',
        source: '/sdk',
        datacontenttype: 'text/plain',
        data: 'hello',
      });
      const bytes = new CloudEvent({
        type: 'com.example.bytes',
        source: '/sdk',
        datacontenttype: 'application/octet-stream',
        data: new Uint8Array([1, 2, 3]),
      });
      const structured = new CloudEvent({ type: 'com.example.structured', source: '/sdk', data: { s: true } });
      assert.equal(await post(HTTP.binary(json)), json.id);
      assert.equal(await post(HTTP.binary(text)), text.id);
      assert.equal(await post(HTTP.binary(bytes)), bytes.id);
      assert.equal(await post(HTTP.structured(structured)), structured.id);

      const read = await fetch(`${server.url}/v1/streams/ce/events`, {
        headers: { ...auth, accept: 'application/cloudevents-batch+json' },
      });
      assert.match(read.headers.get('content-type') ?? '', /cloudevents-batch\+json/);
      const back = (await read.json()) as Record<string, unknown>[];
      const received = back.map(
        (e) =>
          HTTP.toEvent({
            headers: { 'content-type': 'application/cloudevents+json' },
            body: JSON.stringify(e),
          }) as CloudEvent,
      );
      assert.deepEqual(
        received.map((e) => e.id),
        [json.id, text.id, bytes.id, structured.id],
      );
      assert.deepEqual(received[0]!.data, { a: 1 });
      assert.equal(received[0]!.subject, 'one');
      assert.equal(received[1]!.data, 'hello');
      assert.equal(back[2]!.data_base64, Buffer.from([1, 2, 3]).toString('base64'));
      assert.deepEqual(received[3]!.data, { s: true });
    });
  });

  it('on SIGTERM finishes the in-flight request and exits 0', async () => {
    const server = await startServerProcess({ dataDir: tempDir('rivulet-e2e'), track });
    try {
      const auth = { authorization: `Bearer ${server.adminKey}` };
      await fetch(`${server.url}/v1/streams`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'drain' }),
      });
      const body = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ type: 't', data: i })));
      const { port } = new URL(server.url);
      // The request is in flight (headers sent, body half sent) when the signal arrives.
      const answer = new Promise<{ status: number; body: string; connection: string | undefined }>(
        (resolve, reject) => {
          const req = httpRequest(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: '/v1/streams/drain/events',
              headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
            },
            (res) => {
              let text = '';
              res
                .setEncoding('utf8')
                .on('data', (c: string) => (text += c))
                .on('end', () =>
                  resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }),
                );
            },
          );
          req.on('error', reject);
          req.write(body.slice(0, 100));
          setTimeout(() => {
            server.child.kill('SIGTERM');
            setTimeout(() => req.end(body.slice(100)), 300);
          }, 300);
        },
      );
      const result = await answer;
      assert.equal(result.status, 201, result.body);
      assert.equal((JSON.parse(result.body) as { events: unknown[] }).events.length, 50);
      // a kept-alive connection must not hold the draining server open
      assert.equal(result.connection, 'close');
      const exit = await server.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, server.output().stderr);
    } finally {
      await server.kill();
    }
  });

  it('a port in use: one line naming the address and what to do, exit 1, and no admin key made', async () => {
    const { createServer } = await import('node:net');
    const { existsSync } = await import('node:fs');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const dataDir = tempDir('rivulet-e2e');
    try {
      const run = spawnSync(
        process.execPath,
        [SERVER_MAIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir],
        { encoding: 'utf8' },
      );
      assert.equal(run.status, 1, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`^rivulet: cannot listen on 127\\.0\\.0\\.1:${port}: .*another process.*--port`),
      );
      assert.doesNotMatch(run.stdout, /Admin key/);
      assert.equal(existsSync(`${dataDir}/admin.key`), false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // no key was stored either: the next start on the same data dir generates the first one
    const server = await startServerProcess({ dataDir, track, startTimeoutMs: 60_000 });
    try {
      assert.match(server.output().stdout, /Admin key \(shown once/);
    } finally {
      await server.kill();
    }
  });

  it('names the console in the banner, sends / to it, and logs one readable line per request with --log-format pretty', async () => {
    const server = await startServerProcess({
      dataDir: tempDir('rivulet-e2e'),
      args: ['--log-format', 'pretty'],
      logLevel: 'info',
      track,
      startTimeoutMs: 60_000,
    });
    try {
      assert.match(server.output().stdout, new RegExp(`Console: +${server.url}/console/`));
      const root = await fetch(`${server.url}/`, { redirect: 'manual' });
      assert.equal(root.status, 302);
      assert.equal(root.headers.get('location'), '/console/');
      assert.equal((await fetch(`${server.url}/v1/streams`, { headers: { 'x-request-id': 'pretty-1' } })).status, 401);
      const deadline = Date.now() + 10_000;
      const answered = () =>
        server
          .output()
          .stdout.split('\n')
          .some((l) => l.includes('pretty-1') && l.includes('GET /v1/streams'));
      while (!answered() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const lines = server
        .output()
        .stdout.split('\n')
        .filter((l) => l.includes('pretty-1'));
      assert.equal(lines.length, 1, server.output().stdout);
      assert.match(lines[0]!, /INFO.*GET \/v1\/streams 401 [\d.]+ ms UNAUTHENTICATED: this route needs a key/);
      assert.doesNotMatch(server.output().stdout, /^\{"level"/m);
    } finally {
      await server.kill();
    }
    // not a terminal and no --log-format: JSON lines for a collector
    const json = await startServerProcess({
      dataDir: tempDir('rivulet-e2e'),
      logLevel: 'info',
      track,
      startTimeoutMs: 60_000,
    });
    try {
      assert.equal((await fetch(`${json.url}/healthz`, { headers: { 'x-request-id': 'json-1' } })).status, 200);
      const deadline = Date.now() + 10_000;
      while (!json.output().stdout.includes('"json-1"') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const line = json
        .output()
        .stdout.split('\n')
        .find((l) => l.includes('"json-1"'));
      assert.equal((JSON.parse(line!) as { reqId: string }).reqId, 'json-1');
    } finally {
      await json.kill();
    }
  });

  it('exits with a clear message on a bad setting', () => {
    const run = spawnSync(
      process.execPath,
      [SERVER_MAIN, 'serve', '--port', 'eighty', '--data-dir', tempDir('rivulet-e2e')],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--port: "eighty" is not a whole number/);
  });
});
