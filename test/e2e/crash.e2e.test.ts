/**
 * The crash test: many producers write, and a leased consumer receives and acks, while the
 * server is killed with SIGKILL; after a restart on the same data dir every acknowledged event
 * is there exactly once and seqs run 1..N without a gap, and the consumer's position never went
 * back: its committed seq is at least the longest run 1..k of seqs whose ack the server answered
 * `ok`, and no event acked `ok` is ever delivered again. Repeated over several kills, the checks
 * cover all rounds so far; after the last, the consumer drains the stream and must have had
 * every event (at least once) with its committed seq at the end: each event's ack was answered
 * `ok`, or was in flight when the server died (committed, but the answer was lost with it).
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
/** the consumer's lease: what a kill left leased comes again this long after the restart */
const LEASE_MS = 1000;

/** what the consumer was told: seqs acked `ok`, and any event delivered again after that */
interface ConsumerLog {
  ackedOk: Set<number>;
  /** seqs of acks sent but never answered: the server died under them, after or before committing */
  ackUnanswered: Set<number>;
  redeliveredAfterAck: number[];
  deliveries: number;
}

interface Delivery {
  event: { seq: number };
  leaseToken: string;
}

/** the longest run 1..k in `seqs` */
function prefixOf(seqs: Set<number>): number {
  let k = 0;
  while (seqs.has(k + 1)) k++;
  return k;
}

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
async function produce(
  server: ServerProcess,
  n: number,
  stop: { now: boolean },
  acked: Set<string>,
  dispatcher: Agent,
): Promise<void> {
  let i = 0;
  while (!stop.now) {
    const size = i++ % 2 === 0 ? 1 : 5;
    const events = Array.from({ length: size }, () => ({
      id: randomUUID(),
      type: `t${n % 3}`,
      data: { producer: n, i },
    }));
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

async function post(server: ServerProcess, path: string, body: unknown, dispatcher: Agent) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    dispatcher,
  });
}

/** receives a batch and acks it; answers how many were received (0: nothing waiting) */
async function consumeOnce(server: ServerProcess, log: ConsumerLog, dispatcher: Agent): Promise<number> {
  const res = await post(
    server,
    '/v1/streams/crash/consumers/worker/receive',
    { max: 500, leaseMs: LEASE_MS },
    dispatcher,
  );
  const text = await res.text();
  if (res.status !== 200) {
    if (res.status < 500) assert.fail(`receive: unexpected ${res.status}: ${text}`);
    return 0;
  }
  const { deliveries } = JSON.parse(text) as { deliveries: Delivery[] };
  log.deliveries += deliveries.length;
  for (const d of deliveries) if (log.ackedOk.has(d.event.seq)) log.redeliveredAfterAck.push(d.event.seq);
  if (deliveries.length === 0) return 0;
  let ack: Awaited<ReturnType<typeof post>>;
  let answer: string;
  try {
    ack = await post(
      server,
      '/v1/streams/crash/consumers/worker/ack',
      { tokens: deliveries.map((d) => d.leaseToken) },
      dispatcher,
    );
    answer = await ack.text();
  } catch (err) {
    for (const d of deliveries) log.ackUnanswered.add(d.event.seq);
    throw err;
  }
  if (ack.status === 200) {
    const seqOf = new Map(deliveries.map((d) => [d.leaseToken, d.event.seq]));
    // only an `ok` outcome says the ack took effect; `not-held` (lease ran out) may come again
    for (const o of (JSON.parse(answer) as { outcomes: { token: string; outcome: string }[] }).outcomes) {
      if (o.outcome === 'ok') log.ackedOk.add(seqOf.get(o.token)!);
    }
  } else if (ack.status < 500) assert.fail(`ack: unexpected ${ack.status}: ${answer}`);
  else for (const d of deliveries) log.ackUnanswered.add(d.event.seq);
  return deliveries.length;
}

/** the consumer, beside the producers, until stopped or the server dies */
async function consume(
  server: ServerProcess,
  stop: { now: boolean },
  log: ConsumerLog,
  dispatcher: Agent,
): Promise<void> {
  while (!stop.now) {
    try {
      if ((await consumeOnce(server, log, dispatcher)) === 0) await new Promise((r) => setTimeout(r, 10));
    } catch (err) {
      if ((err as Error).name === 'AssertionError') throw err;
      return; // the server died under this request: what it received stays leased
    }
  }
}

async function consumerState(
  server: ServerProcess,
  dispatcher: Agent,
): Promise<{ committedSeq: number; pending: number; leased: number }> {
  const res = await fetch(`${server.url}/v1/streams/crash/consumers/worker/lag`, {
    headers: { authorization: `Bearer ${server.adminKey}` },
    dispatcher,
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { committedSeq: number; pending: number; leased: number };
}

describe('crash safety', () => {
  it(`keeps every acknowledged event exactly once, seqs gap-free, consumer positions, across ${KILLS} kill -9`, async (t) => {
    const dataDir = tempDir('rivulet-crash');
    const acked = new Set<string>();
    const consumed: ConsumerLog = {
      ackedOk: new Set(),
      ackUnanswered: new Set(),
      redeliveredAfterAck: [],
      deliveries: 0,
    };
    let lastCommitted = 0;
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
            const consumer = await post(
              server,
              '/v1/streams/crash/consumers',
              { name: 'worker', start: { from: 'beginning' }, leaseMs: LEASE_MS, maxDeliveries: 100 },
              dispatcher,
            );
            assert.equal(consumer.status, 201, await consumer.text());
          }
          const before = acked.size;
          const stop = { now: false };
          const producers = [
            ...Array.from({ length: PRODUCERS }, (_, n) => produce(server, n, stop, acked, dispatcher)),
            consume(server, stop, consumed, dispatcher),
          ];
          await new Promise((r) => setTimeout(r, WRITE_MS));
          // SIGKILL while the producers are still writing: no flush, no shutdown hook
          const exit = await server.kill('SIGKILL');
          assert.equal(exit.signal, 'SIGKILL');
          stop.now = true;
          await Promise.all(producers);
          assert.ok(acked.size > before, `round ${round} acknowledged nothing`);
          assert.ok(consumed.ackedOk.size > 0, `round ${round}: the consumer acked nothing`);
        } finally {
          await server.kill();
        }

        const restarted = await startServerProcess({ dataDir, track });
        try {
          const events = await readAll(restarted, dispatcher);
          const seqs = events.map((e) => e.seq);
          assert.deepEqual(
            seqs,
            Array.from({ length: events.length }, (_, i) => i + 1),
            'seqs are 1..N without a gap',
          );
          const counts = new Map<string, number>();
          for (const e of events) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
          const duplicated = [...counts].filter(([, c]) => c > 1);
          assert.deepEqual(duplicated, [], 'no event is stored twice');
          const lost = [...acked].filter((id) => !counts.has(id));
          assert.deepEqual(lost, [], `round ${round}: acknowledged events are missing`);

          // the consumer's position survived the kill: never behind what was acked `ok`, never back
          const state = await consumerState(restarted, dispatcher);
          const prefix = prefixOf(consumed.ackedOk);
          assert.ok(
            state.committedSeq >= prefix,
            `round ${round}: committed seq ${state.committedSeq} is behind the acks answered ok (1..${prefix})`,
          );
          assert.ok(
            state.committedSeq >= lastCommitted,
            `round ${round}: committed seq went back from ${lastCommitted} to ${state.committedSeq}`,
          );
          assert.ok(state.committedSeq <= events.length);
          lastCommitted = state.committedSeq;
          assert.deepEqual(consumed.redeliveredAfterAck, [], `round ${round}: events acked ok were delivered again`);

          if (round === KILLS) {
            // drain: what the kills left leased comes back after LEASE_MS; every event is had at least once
            const deadline = Date.now() + 20_000;
            for (;;) {
              if ((await consumeOnce(restarted, consumed, dispatcher)) > 0) continue;
              const now = await consumerState(restarted, dispatcher);
              if (now.pending === 0 && now.leased === 0) break;
              assert.ok(Date.now() < deadline, `the consumer did not drain: ${JSON.stringify(now)}`);
              await new Promise((r) => setTimeout(r, 50));
            }
            assert.deepEqual(consumed.redeliveredAfterAck, [], 'events acked ok were delivered again');
            const unacked = events
              .map((_, i) => i + 1)
              .filter((seq) => !consumed.ackedOk.has(seq) && !consumed.ackUnanswered.has(seq));
            assert.deepEqual(
              unacked.slice(0, 20),
              [],
              `the consumer acked every event (${unacked.length} never acked)`,
            );
            assert.equal(
              (await consumerState(restarted, dispatcher)).committedSeq,
              events.length,
              'the committed seq is at the end',
            );
            t.diagnostic(
              `${events.length} events, ${acked.size} acknowledged to producers; the consumer had ${consumed.deliveries} deliveries (${consumed.deliveries - events.length} again after a kill; ${consumed.ackUnanswered.size} acks cut off by a kill)`,
            );
          }
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
