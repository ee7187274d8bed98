/**
 * Routing by stream behind a real load balancer: two Rivulet processes on one nats-server
 * behind HAProxy with the by-stream backend docs/operations.md shows (`balance uri`, consistent
 * hashing), so each stream's appends go through one process and its chain has one writer.
 * Asserted with each process's own produce counts (`GET /v1/rates`, counted per process): every
 * stream was written through exactly one process, both processes took some; once one process
 * stops, its streams move to the other and every acknowledged event is in its stream once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { haproxyAvailable, startHaproxy } from '../support/haproxy.js';
import { freePort, natsServerAvailable, startNatsServer } from '../support/nats-server.js';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess } from '../support/server-process.js';

const ADMIN = `admin-${randomUUID()}`;
const STREAMS = Array.from({ length: 16 }, (_, i) => `orders-${i}`);
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

/** events counted by one process per stream, over the last hour */
async function producedThrough(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/v1/rates`, { headers });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { streams: { stream: string; counts: number[] }[] };
  return new Map(body.streams.map((s) => [s.stream, s.counts.reduce((a, b) => a + b, 0)]));
}

/** through the balancer, tried again on a network error or a 503 as the docs say */
async function produce(lb: string, stream: string, id: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${lb}/v1/streams/${stream}/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id, type: 'order.created', source: '/test', data: { id } }),
      });
      const body = (await res.json()) as { events?: { seq: number }[] };
      if (res.status === 201 || res.status === 200) return body.events![0]!.seq;
      if (res.status !== 503 || Date.now() > deadline) assert.fail(`produce answered ${res.status}`);
    } catch (err) {
      if (err instanceof assert.AssertionError || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe(
  'routing by stream behind HAProxy',
  { skip: !haproxyAvailable() || !natsServerAvailable() ? 'haproxy or nats-server is not installed' : false },
  () => {
    it(
      "writes each stream through one process, and moves a stopped process's streams to the other",
      { timeout: 120_000 },
      async () => {
        const nats = await startNatsServer({ track, dir: tempDir('rivulet-nats') });
        const ports = [await freePort(), await freePort()];
        const processes = await Promise.all(
          ports.map((port) =>
            startServerProcess({
              dataDir: tempDir('rivulet-node'),
              args: ['--store', nats.servers, '--nats-replicas', '1', '--port', String(port)],
              env: { RIVULET_ADMIN_KEY: ADMIN },
              track,
              startTimeoutMs: 60_000,
            }),
          ),
        );
        const lb = await startHaproxy(
          tempDir('rivulet-haproxy'),
          ports.map((p) => `127.0.0.1:${p}`),
          track,
          { routeByStream: true },
        );
        try {
          for (const name of STREAMS) {
            const res = await fetch(`${lb.url}/v1/streams`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ name }),
            });
            assert.equal(res.status, 201, await res.text());
          }
          const written = new Map<string, string[]>(STREAMS.map((s) => [s, []]));
          const write = async (round: number) => {
            for (let i = 0; i < 5; i++)
              await Promise.all(
                STREAMS.map(async (s) => {
                  const id = `${s}-${round}-${i}`;
                  await produce(lb.url, s, id);
                  written.get(s)!.push(id);
                }),
              );
          };

          await write(1);
          const counts = await Promise.all(processes.map((p) => producedThrough(p.url)));
          const owner = new Map<string, number>();
          for (const s of STREAMS) {
            const through = counts.map((c) => c.get(s) ?? 0);
            assert.deepEqual(
              [...through].sort((a, b) => a - b),
              [0, 5],
              `${s} was written through one process: ${through.join(' / ')}`,
            );
            owner.set(s, through.indexOf(5));
          }
          assert.deepEqual(new Set(owner.values()), new Set([0, 1]), 'both processes own streams');

          // the first process stops: its streams move to the second, nothing acknowledged is lost
          await processes[0]!.close();
          await write(2);
          const after = await producedThrough(processes[1]!.url);
          for (const s of STREAMS) assert.equal(after.get(s), owner.get(s) === 1 ? 10 : 5, s);
          for (const s of STREAMS) {
            const res = await fetch(`${lb.url}/v1/streams/${s}/events?limit=100`, { headers });
            const body = (await res.json()) as { events: { id: string }[] };
            assert.deepEqual(
              body.events.map((e) => e.id).sort(),
              [...written.get(s)!].sort(),
              `${s} holds every acknowledged event once`,
            );
          }
        } finally {
          await lb.close();
          for (const p of processes) await p.close();
          await nats.close();
        }
      },
    );
  },
);
