/**
 * Rivulet processes against a 3-node cluster whose nodes are paused (SIGSTOP) and resumed.
 * Processes started while every node is paused wait, answering /readyz 503 with the reason,
 * and serve once the nodes are resumed; a running process whose cluster stalls reports
 * not ready and carries on afterwards. Neither may end the process.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { freePort, startNatsCluster, type NatsCluster } from '../support/nats-server.js';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const ADMIN = `admin-${randomUUID()}`;
const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown> | null;
}

async function call(base: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const res = await request(`${base}${path}`, {
    method,
    headers: auth,
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

/** calls `probe` every 250 ms until it returns true, for up to `ms` */
async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} did not happen within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

function pause(cluster: NatsCluster, signal: 'SIGSTOP' | 'SIGCONT'): void {
  for (const node of cluster.nodes) if (node.alive()) process.kill(node.child.pid!, signal);
}

describe('nats cluster paused and resumed', () => {
  it(
    'processes wait for a paused cluster with /readyz saying why, serve once it resumes, and survive a stall',
    { timeout: 150_000 },
    async () => {
      const cluster = await startNatsCluster({ track, dir: tempDir('rivulet-nats') });
      const processes: Promise<ServerProcess>[] = [];
      try {
        pause(cluster, 'SIGSTOP');
        const ports = [await freePort(), await freePort()];
        for (const port of ports) {
          const starting = startServerProcess({
            dataDir: tempDir('rivulet-node'),
            args: [
              '--store',
              `nats://${cluster.servers.replaceAll('nats://', '')}`,
              '--nats-replicas',
              '3',
              '--port',
              String(port),
            ],
            env: { RIVULET_ADMIN_KEY: ADMIN },
            logLevel: 'info',
            track,
            startTimeoutMs: 90_000,
          });
          starting.catch(() => {});
          processes.push(starting);
        }
        const bases = ports.map((port) => `http://127.0.0.1:${port}`);

        // while the cluster is paused: alive, not ready with the reason, other routes 503 with Retry-After
        for (const base of bases) {
          await until(`${base} reporting that it cannot reach the cluster`, 40_000, async () => {
            const ready = await call(base, 'GET', '/readyz');
            return (
              ready.status === 503 &&
              ready.json?.status === 'starting' &&
              /nats cluster/.test(String(ready.json.reason))
            );
          });
          const alive = await call(base, 'GET', '/healthz');
          assert.equal(alive.status, 200);
          const refused = await call(base, 'GET', '/v1/streams');
          assert.equal(refused.status, 503);
          assert.equal(refused.json?.code, 'STORE_UNAVAILABLE');
          assert.ok(refused.headers['retry-after'], 'a 503 while starting says when to try again');
          assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
        }

        pause(cluster, 'SIGCONT');
        const [a, b] = (await Promise.all(processes)) as [ServerProcess, ServerProcess];
        for (const p of [a, b]) {
          assert.match(
            p.output().stdout,
            /store unavailable at start-up \(opening the store\); trying again/,
            'each failed attempt is logged with the next try',
          );
          assert.doesNotMatch(p.output().stderr, /TimeoutError|Unhandled/);
        }
        await until(
          'the stream to be created',
          30_000,
          async () => (await call(a.url, 'POST', '/v1/streams', { name: 'orders' })).status === 201,
        );
        assert.equal((await call(b.url, 'POST', '/v1/streams/orders/events', [{ type: 't', data: 1 }])).status, 201);

        // a stall while running: not ready with a reason, then ready and serving again
        pause(cluster, 'SIGSTOP');
        await until('/readyz on A reporting the stalled cluster', 30_000, async () => {
          const ready = await call(a.url, 'GET', '/readyz');
          return ready.status === 503 && typeof ready.json?.reason === 'string';
        });
        await new Promise((r) => setTimeout(r, 6000));
        pause(cluster, 'SIGCONT');
        for (const p of [a, b])
          await until(`${p.url} ready again`, 60_000, async () => (await call(p.url, 'GET', '/readyz')).status === 200);
        await until(
          'a produce after the stall',
          30_000,
          async () => (await call(a.url, 'POST', '/v1/streams/orders/events', [{ type: 't', data: 2 }])).status === 201,
        );
        const read = await call(b.url, 'GET', '/v1/streams/orders/events?after=0&limit=10');
        assert.deepEqual(
          (read.json?.events as { data: number }[]).map((e) => e.data),
          [1, 2],
        );
        for (const p of [a, b]) {
          assert.equal(p.child.exitCode, null, 'the process is still running');
          assert.doesNotMatch(p.output().stderr, /TimeoutError|Unhandled/);
        }
      } finally {
        pause(cluster, 'SIGCONT');
        for (const p of processes) await (await p.catch(() => null))?.close();
        await cluster.close();
      }
    },
  );
});
