/**
 * A rolling restart behind a real load balancer: three Rivulet processes on a 3-node nats
 * cluster behind HAProxy (health checks on /readyz), each restarted in turn (SIGTERM, then
 * started again on its port) while producers and a leased consumer keep working through the
 * balancer. Clients retry as docs/operations.md says (network errors and 503, the same event
 * ids again). Asserted: no request failed after its retries, every acknowledged event is in
 * the stream exactly once, and the consumer is never handed an event whose ack it was told
 * took effect.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { haproxyAvailable, startHaproxy } from '../support/haproxy.js';
import { freePort, natsServerAvailable, startNatsCluster } from '../support/nats-server.js';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const ADMIN = `admin-${randomUUID()}`;
const PRODUCERS = 2;
const LEASE_MS = 3000;
const RETRY_FOR_MS = 60_000;

interface Delivery {
  event: { id: string; seq: number };
  leaseToken: string;
}

describe(
  'rolling restart behind HAProxy',
  { skip: !haproxyAvailable() || !natsServerAvailable() ? 'haproxy or nats-server is not installed' : false },
  () => {
    it(
      'loses no acknowledged event, fails no retried request and redelivers no acked event',
      { timeout: 180_000 },
      async (t) => {
        const cluster = await startNatsCluster({ track, dir: tempDir('rivulet-nats') });
        const ports = [await freePort(), await freePort(), await freePort()];
        const start = (port: number): Promise<ServerProcess> =>
          startServerProcess({
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
            track,
            startTimeoutMs: 60_000,
          });
        const processes = await Promise.all(ports.map(start));
        const lb = await startHaproxy(
          tempDir('rivulet-haproxy'),
          ports.map((p) => `127.0.0.1:${p}`),
          track,
        );
        let agentClosed = false;
        const agent = track('undici agent', new Agent({ connections: PRODUCERS + 2 }), () => agentClosed);
        const failures: string[] = [];
        let retries = 0;

        /** one call through the balancer, tried again on a network error or a 503 as the docs say */
        const call = async (
          method: 'GET' | 'POST',
          path: string,
          body?: unknown,
        ): Promise<{ status: number; json: Record<string, unknown> }> => {
          const deadline = Date.now() + RETRY_FOR_MS;
          for (let attempt = 1; ; attempt++) {
            let why: string;
            try {
              const res = await request(`${lb.url}${path}`, {
                method,
                dispatcher: agent,
                headersTimeout: 15_000,
                bodyTimeout: 15_000,
                headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
                body: body === undefined ? undefined : JSON.stringify(body),
              });
              const text = await res.body.text();
              if (res.statusCode !== 503 && res.statusCode !== 502)
                return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
              why = `${res.statusCode} ${text.slice(0, 200)}`;
            } catch (err) {
              why = (err as Error).message;
            }
            if (Date.now() > deadline) {
              failures.push(`${method} ${path}: ${why} after ${attempt} attempts`);
              return { status: 0, json: {} };
            }
            retries++;
            await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
          }
        };

        try {
          await waitReady(lb.url);
          assert.equal((await call('POST', '/v1/streams', { name: 'rolling' })).status, 201);
          assert.equal(
            (
              await call('POST', '/v1/streams/rolling/consumers', {
                name: 'worker',
                leaseMs: LEASE_MS,
                maxDeliveries: 1000,
              })
            ).status,
            201,
          );

          const acknowledged = new Set<string>();
          let producing = true;
          const producers = Array.from({ length: PRODUCERS }, async (_, p) => {
            for (let n = 0; producing; n++) {
              const id = `p${p}-${n}-${randomUUID()}`;
              const answer = await call('POST', '/v1/streams/rolling/events', [{ id, type: 'tick', data: { p, n } }]);
              if (answer.status === 201) acknowledged.add(id);
              else if (answer.status !== 0)
                failures.push(`produce ${id}: ${answer.status} ${JSON.stringify(answer.json)}`);
            }
          });

          const delivered = new Map<string, number>();
          const ackedOk = new Set<string>();
          const redelivered: string[] = [];
          let consuming = true;
          const receiveOnce = async (): Promise<number> => {
            const got = await call('POST', '/v1/streams/rolling/consumers/worker/receive', { max: 50 });
            if (got.status !== 200) {
              if (got.status !== 0) failures.push(`receive: ${got.status} ${JSON.stringify(got.json)}`);
              return 0;
            }
            const deliveries = got.json.deliveries as Delivery[];
            if (deliveries.length === 0) return 0;
            for (const d of deliveries) {
              if (ackedOk.has(d.event.id)) redelivered.push(d.event.id);
              delivered.set(d.event.id, (delivered.get(d.event.id) ?? 0) + 1);
            }
            const idOf = new Map(deliveries.map((d) => [d.leaseToken, d.event.id]));
            const ack = await call('POST', '/v1/streams/rolling/consumers/worker/ack', {
              tokens: deliveries.map((d) => d.leaseToken),
            });
            if (ack.status === 200) {
              for (const o of ack.json.outcomes as { token: string; outcome: string }[])
                if (o.outcome === 'ok') ackedOk.add(idOf.get(o.token)!);
            } else if (ack.status !== 0) failures.push(`ack: ${ack.status} ${JSON.stringify(ack.json)}`);
            return deliveries.length;
          };
          const consumer = (async () => {
            while (consuming) if ((await receiveOnce()) === 0) await new Promise((r) => setTimeout(r, 100));
          })();

          // each process in turn: a graceful stop, then the same port again once it is ready
          await waitFor(() => acknowledged.size >= 50, 30_000, 'the first 50 events');
          for (let i = 0; i < processes.length; i++) {
            const before = acknowledged.size;
            const exit = await processes[i]!.close();
            assert.equal(exit.code, 0, `process ${i + 1} stopped cleanly`);
            processes[i] = await start(ports[i]!);
            await waitReady(processes[i]!.url);
            // the balancer's next health check (every 500 ms) puts it back
            await new Promise((r) => setTimeout(r, 1500));
            await waitFor(
              () => acknowledged.size >= before + 30,
              30_000,
              `produce going on after restarting process ${i + 1}`,
            );
          }

          producing = false;
          await Promise.all(producers);
          await waitFor(
            () => [...acknowledged].every((id) => ackedOk.has(id)),
            60_000,
            'the consumer to have acked every acknowledged event',
            () => {
              // says whether the rest were never handed out or handed out and never settled
              const unacked = [...acknowledged].filter((id) => !ackedOk.has(id));
              const handedOut = unacked.filter((id) => delivered.has(id));
              return `${unacked.length} of ${acknowledged.size} unacked, ${handedOut.length} of them delivered (${handedOut.slice(0, 3).join(', ')}); failures: ${failures.slice(0, 3).join('; ')}`;
            },
          );
          consuming = false;
          await consumer;

          assert.deepEqual(failures, [], 'no request failed after its retries');
          assert.deepEqual(redelivered, [], 'no event whose ack was answered ok was delivered again');

          const stored = new Map<string, number>();
          for (let after = 0; ;) {
            const page = await call('GET', `/v1/streams/rolling/events?after=${after}&limit=1000`);
            const events = page.json.events as { id: string; seq: number }[];
            if (events.length === 0) break;
            for (const e of events) stored.set(e.id, (stored.get(e.id) ?? 0) + 1);
            after = events[events.length - 1]!.seq;
          }
          const missing = [...acknowledged].filter((id) => !stored.has(id));
          assert.deepEqual(missing, [], 'every acknowledged event is in the stream');
          assert.deepEqual(
            [...stored].filter(([, n]) => n > 1),
            [],
            'no event is in the stream twice',
          );
          assert.ok(acknowledged.size >= 150, `enough load went through (${acknowledged.size} events)`);
          t.diagnostic(
            `${acknowledged.size} events acknowledged, ${[...delivered.values()].reduce((a, b) => a + b, 0)} deliveries, ${retries} requests tried again`,
          );
        } finally {
          agentClosed = true;
          await agent.close();
          await lb.close();
          for (const p of processes) await p.close();
          await cluster.close();
        }
      },
    );
  },
);

async function waitReady(base: string): Promise<void> {
  await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 30_000, `${base} ready`);
}

async function waitFor(
  probe: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  detail?: () => string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms${detail ? ` (${detail()})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
