/**
 * Several Rivulet processes on one 3-node NATS JetStream cluster (real nats-server
 * processes, replicas 3; nats-server 2.9 has no `sync_interval`). Two built servers serve the same stream:
 * a live subscriber on A sees what is produced on B; a consumer's leases hold across the
 * processes and a token from A is settled on B. Then producers write through both while one
 * NATS node and one Rivulet process are killed with SIGKILL; every acknowledged event must
 * be readable exactly once, seqs gap-free and in order, and the consumer carries on.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startNatsCluster } from '../support/nats-server.js';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const ADMIN = `admin-${randomUUID()}`;
interface DeliveryView {
  event: { seq: number };
  leaseToken: string;
}
interface Body {
  deliveries: DeliveryView[];
  outcomes: { outcome: string }[];
  events: { id: string; seq: number }[];
}

const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Body }> {
  // short timeouts: a call to a process that has just been stopped must not wait undici's 300 s
  const res = await request(`${base}${path}`, {
    method,
    headers: auth,
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: (text ? JSON.parse(text) : null) as Body };
}

async function startRivulet(servers: string): Promise<ServerProcess> {
  return startServerProcess({
    dataDir: tempDir('rivulet-node'),
    args: ['--store', `nats://${servers.replaceAll('nats://', '')}`, '--nats-replicas', '3'],
    env: { RIVULET_ADMIN_KEY: ADMIN },
    track,
    startTimeoutMs: 30_000,
  });
}

describe('nats cluster, several Rivulet processes', () => {
  it(
    'shares streams, live updates and leases; survives kill -9 of a NATS node and a Rivulet process',
    { timeout: 120_000 },
    async () => {
      const cluster = await startNatsCluster({ track, dir: tempDir('rivulet-nats') });
      const a = await startRivulet(cluster.servers);
      const b = await startRivulet(cluster.servers);
      const live = new AbortController();
      try {
        assert.equal((await call(a.url, 'POST', '/v1/streams', { name: 'orders' })).status, 201);

        // live: a subscriber on A sees an event produced through B
        const sse = await request(`${a.url}/v1/streams/orders/live?after=0`, {
          headers: { authorization: auth.authorization, accept: 'text/event-stream' },
          signal: live.signal,
        });
        assert.equal(sse.statusCode, 200);
        let seen = '';
        const reading = (async () => {
          for await (const chunk of sse.body) seen += chunk.toString();
        })().catch(() => {});
        const marker = `from-b-${randomUUID()}`;
        assert.equal(
          (await call(b.url, 'POST', '/v1/streams/orders/events', [{ type: 'probe', data: marker }])).status,
          201,
        );
        for (let i = 0; i < 200 && !seen.includes(marker); i++) await new Promise((r) => setTimeout(r, 25));
        assert.ok(seen.includes(marker), 'the subscriber on A saw the event produced on B');
        live.abort();
        await reading;

        // leases: what A holds is not handed out by B; A's tokens are settled through B
        assert.equal(
          (await call(a.url, 'POST', '/v1/streams/orders/consumers', { name: 'work', leaseMs: 60_000 })).status,
          201,
        );
        await call(
          a.url,
          'POST',
          '/v1/streams/orders/events',
          Array.from({ length: 4 }, (_, i) => ({ type: 't', data: i })),
        );
        const onA = (await call(a.url, 'POST', '/v1/streams/orders/consumers/work/receive', { max: 2 })).json
          .deliveries;
        const onB = (await call(b.url, 'POST', '/v1/streams/orders/consumers/work/receive', { max: 10 })).json
          .deliveries;
        const seqsA = onA.map((d) => d.event.seq);
        const seqsB = onB.map((d) => d.event.seq);
        assert.deepEqual(seqsA, [1, 2]);
        assert.deepEqual(seqsB, [3, 4, 5]);
        const acked = await call(b.url, 'POST', '/v1/streams/orders/consumers/work/ack', {
          tokens: [...onA, ...onB].map((d) => d.leaseToken),
        });
        assert.ok(
          acked.json.outcomes.every((o) => o.outcome === 'ok'),
          JSON.stringify(acked.json),
        );

        // failover: produce through both, kill one NATS node and process B mid-run
        const acknowledged: string[] = [];
        let stop = false;
        const producer = (server: ServerProcess) => async () => {
          while (!stop) {
            const batch = Array.from({ length: 5 }, () => ({
              id: randomUUID(),
              type: 'load',
              data: { at: Date.now() },
            }));
            try {
              const res = await call(server.url, 'POST', '/v1/streams/orders/events', batch);
              if (res.status === 201) acknowledged.push(...batch.map((e) => e.id));
            } catch {
              await new Promise((r) => setTimeout(r, 50)); // the process is gone or restarting
            }
          }
        };
        const running = [producer(a), producer(a), producer(b), producer(b)].map((p) => p());
        await new Promise((r) => setTimeout(r, 800));
        await cluster.nodes[0]!.kill();
        await b.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 2500));
        stop = true;
        await Promise.all(running);
        assert.ok(acknowledged.length > 50, `only ${acknowledged.length} events were acknowledged`);

        const all: { id: string; seq: number }[] = [];
        for (let after = 0; ;) {
          const page = (await call(a.url, 'GET', `/v1/streams/orders/events?after=${after}&limit=1000`)).json.events;
          all.push(...page);
          if (page.length < 1000) break;
          after = page[page.length - 1]!.seq;
        }
        assert.deepEqual(
          all.map((e) => e.seq),
          all.map((_, i) => i + 1),
          'seqs run 1..N without a gap',
        );
        const counts = new Map<string, number>();
        for (const e of all) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
        for (const id of acknowledged)
          assert.equal(counts.get(id), 1, `acknowledged event ${id} is stored exactly once`);

        // the consumer carries on after the failover
        const after = (await call(a.url, 'POST', '/v1/streams/orders/consumers/work/receive', { max: 10 })).json
          .deliveries;
        assert.deepEqual(
          after.map((d) => d.event.seq),
          [6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        );
      } catch (err) {
        process.stderr.write(`# A output:\n${a.output().stderr.slice(-3000)}\n${a.output().stdout.slice(-3000)}\n`);
        throw err;
      } finally {
        live.abort();
        await a.close();
        await b.close();
        await cluster.close();
      }
    },
  );
});
