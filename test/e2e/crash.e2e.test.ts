/**
 * The crash test: many producers write while the server is killed with SIGKILL; after a
 * restart on the same data dir every acknowledged event is there exactly once and seqs run
 * 1..N without a gap. Repeated over several kills, the checks cover all rounds so far.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Agent, fetch } from 'undici';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const PRODUCERS = 20;
const WRITE_MS = 2000;
const KILLS = 3;

interface ReadPage {
  events: { id: string; seq: number }[];
  next: string | null;
}

async function readAll(server: ServerProcess, dispatcher: Agent): Promise<{ id: string; seq: number }[]> {
  const all: { id: string; seq: number }[] = [];
  let cursor: string | null = null;
  do {
    const url = `${server.url}/v1/streams/crash/events?limit=5000${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${server.adminKey}` }, dispatcher });
    assert.equal(res.status, 200);
    const page = (await res.json()) as ReadPage;
    all.push(...page.events);
    cursor = page.next;
  } while (cursor);
  return all;
}

/** one producer: POSTs single events and batches of 5 until stopped, recording what was acknowledged */
async function produce(server: ServerProcess, n: number, stop: { now: boolean }, acked: Set<string>, dispatcher: Agent): Promise<void> {
  let i = 0;
  while (!stop.now) {
    const size = i++ % 2 === 0 ? 1 : 5;
    const events = Array.from({ length: size }, () => ({ id: randomUUID(), type: `t${n % 3}`, data: { producer: n, i } }));
    try {
      const res = await fetch(`${server.url}/v1/streams/crash/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(size === 1 ? events[0] : events),
        dispatcher,
      });
      const body = await res.text();
      if (res.status === 201) for (const e of events) acked.add(e.id);
      else if (res.status < 500) assert.fail(`unexpected ${res.status}: ${body}`);
    } catch (err) {
      if ((err as Error).name === 'AssertionError') throw err;
      // the server died under this request: it was not acknowledged
      return;
    }
  }
}

describe('crash safety', () => {
  it(`keeps every acknowledged event exactly once, seqs gap-free, across ${KILLS} kill -9`, async () => {
    const dataDir = tempDir('rivulet-crash');
    const acked = new Set<string>();
    const dispatcher = track('undici agent', new Agent({ connections: PRODUCERS + 2, pipelining: 1 }), () => closed);
    let closed = false;
    try {
      for (let round = 1; round <= KILLS; round++) {
        const server = await startServerProcess({ dataDir, track });
        try {
          if (round === 1) {
            const res = await fetch(`${server.url}/v1/streams`, {
              method: 'POST',
              headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
              body: JSON.stringify({ name: 'crash' }),
              dispatcher,
            });
            assert.equal(res.status, 201);
          }
          const before = acked.size;
          const stop = { now: false };
          const producers = Array.from({ length: PRODUCERS }, (_, n) => produce(server, n, stop, acked, dispatcher));
          await new Promise((r) => setTimeout(r, WRITE_MS));
          // SIGKILL while the producers are still writing: no flush, no shutdown hook
          const exit = await server.kill('SIGKILL');
          assert.equal(exit.signal, 'SIGKILL');
          stop.now = true;
          await Promise.all(producers);
          assert.ok(acked.size > before, `round ${round} acknowledged nothing`);
        } finally {
          await server.kill();
        }

        const restarted = await startServerProcess({ dataDir, track });
        try {
          const events = await readAll(restarted, dispatcher);
          const seqs = events.map((e) => e.seq);
          assert.deepEqual(seqs, Array.from({ length: events.length }, (_, i) => i + 1), 'seqs are 1..N without a gap');
          const counts = new Map<string, number>();
          for (const e of events) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
          const duplicated = [...counts].filter(([, c]) => c > 1);
          assert.deepEqual(duplicated, [], 'no event is stored twice');
          const lost = [...acked].filter((id) => !counts.has(id));
          assert.deepEqual(lost, [], `round ${round}: acknowledged events are missing`);
        } finally {
          await restarted.close();
        }
      }
    } finally {
      await dispatcher.close();
      closed = true;
    }
  });
});
