/**
 * A sink on the nats store with two built Rivulet processes on one 3-node NATS cluster
 * (real nats-server processes, replicas 3). An http sink delivers to a real receiver on
 * 127.0.0.1 that learns, for each connection, which Rivulet process opened it (Linux /proc,
 * test/support/socket-owner.ts), so "one process delivers at a time" is checked at the
 * receiver, not only in the ownership lease. The delivering process is killed with SIGKILL
 * mid-run: the other takes the sink over once the 3 s ownership lease has expired, and every
 * acknowledged event reaches the receiver at least once, duplicates under the same webhook-id.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startNatsCluster } from '../support/nats-server.js';
import { tempDir, track } from '../support/resources.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { socketOwner } from '../support/socket-owner.js';

const ADMIN = `admin-${randomUUID()}`;
const OWNER_LEASE_S = 3;
const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Hit {
  pid: number | null;
  webhookId: string;
  eventId: string;
  seq: number;
  start: number;
  end: number;
}

async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  // short timeouts: a call to a process that has just been killed must not wait undici's 300 s
  const res = await request(`${base}${path}`, {
    method,
    headers: auth,
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: (text ? JSON.parse(text) : null) as Record<string, unknown> };
}

async function startRivulet(servers: string): Promise<ServerProcess> {
  return startServerProcess({
    dataDir: tempDir('rivulet-node'),
    args: [
      '--store',
      `nats://${servers.replaceAll('nats://', '')}`,
      '--nats-replicas',
      '3',
      '--sink-allow-loopback',
      '--sink-owner-lease',
      String(OWNER_LEASE_S),
    ],
    env: { RIVULET_ADMIN_KEY: ADMIN },
    track,
    startTimeoutMs: 30_000,
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** the one candidate no longer running, if exactly one is */
function onlyDead(pids: number[]): number | null {
  const dead = pids.filter((pid) => !alive(pid));
  return dead.length === 1 ? dead[0]! : null;
}

/** a receiver that answers after `delayMs`, recording per request the sending process and overlaps across processes */
async function startTracingReceiver(pids: () => number[], delayMs: number) {
  const hits: Hit[] = [];
  const active = new Map<number | null, number>();
  const overlaps: string[] = [];
  const owners = new WeakMap<Socket, Promise<number | null>>();
  const server = createServer((req, res) => {
    const start = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const pid = (await owners.get(req.socket)) ?? null;
        for (const [other, n] of active)
          if (other !== pid && n > 0) overlaps.push(`pid ${pid} sent while ${other} had ${n} in flight`);
        active.set(pid, (active.get(pid) ?? 0) + 1);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; seq: number };
        await sleep(delayMs);
        active.set(pid, active.get(pid)! - 1);
        hits.push({
          pid,
          webhookId: String(req.headers['webhook-id']),
          eventId: body.id,
          seq: body.seq,
          start,
          end: Date.now(),
        });
        res.end('ok');
      })();
    });
  });
  server.on('connection', (socket: Socket) => {
    const candidates = pids();
    // a connection opened just before its process was killed is in no live process's fd table
    // by the time it is looked up: it can only be the dead candidate's (the live one's sockets
    // are found), and the "sent nothing after its death" check below still applies to it
    const owner = socketOwner(socket.remotePort!, (server.address() as AddressInfo).port, candidates).then(
      (pid) => pid ?? onlyDead(candidates),
    );
    owners.set(socket, owner);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  let closed = false;
  track('tracing receiver', server, () => closed);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits,
    overlaps,
    async close() {
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('sinks on nats, several Rivulet processes', () => {
  it(
    'one process delivers at a time; kill -9 of it hands the sink over and loses nothing',
    { timeout: 150_000 },
    async () => {
      const cluster = await startNatsCluster({ track, dir: tempDir('rivulet-nats') });
      const a = await startRivulet(cluster.servers);
      const b = await startRivulet(cluster.servers);
      const rx = await startTracingReceiver(() => [a.pid, b.pid], 10);
      const holders: { holder: string | null; at: number }[] = [];
      let watching = true;
      let killedAt = Number.POSITIVE_INFINITY;
      try {
        assert.equal((await call(a.url, 'POST', '/v1/streams', { name: 'orders' })).status, 201);
        const created = await call(b.url, 'POST', '/v1/sinks', {
          id: 'hook',
          streams: ['orders'],
          start: { from: 'beginning' },
          target: { kind: 'http', url: rx.url },
          policy: { concurrency: 4, timeoutMs: 2000 },
        });
        assert.equal(created.status, 201, JSON.stringify(created.json));

        // who the sink view says delivers, sampled through whichever process is alive
        const watcher = (async () => {
          while (watching) {
            for (const p of [a, b]) {
              const view = await call(p.url, 'GET', '/v1/sinks/hook').catch(() => null);
              if (view?.status !== 200) continue;
              const holder = view.json.deliveredBy as string | null;
              if (holders.at(-1)?.holder !== holder) holders.push({ holder, at: Date.now() });
              break;
            }
            await sleep(100);
          }
        })();

        // producers through both processes; those through the killed one stop answering
        const acknowledged: string[] = [];
        let stop = false;
        const producer = (server: ServerProcess) => async () => {
          while (!stop && acknowledged.length < 800) {
            const batch = Array.from({ length: 10 }, () => ({
              id: randomUUID(),
              type: 'order.placed',
              data: { at: Date.now() },
            }));
            const res = await call(server.url, 'POST', '/v1/streams/orders/events', batch).catch(() => null);
            if (res?.status === 201) acknowledged.push(...batch.map((e) => e.id));
            else await sleep(50);
            await sleep(10);
          }
        };
        const producing = [producer(a)(), producer(b)()];

        const until = async (what: string, ok: () => boolean, ms: number) => {
          for (const deadline = Date.now() + ms; !ok(); await sleep(20))
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        };
        await until('100 deliveries', () => rx.hits.length >= 100, 30_000);
        const pidsBefore = new Set(rx.hits.map((h) => h.pid));
        assert.equal(pidsBefore.size, 1, `one process delivers: ${[...pidsBefore].join(', ')}`);
        const victim = rx.hits[0]!.pid === a.pid ? a : b;
        const survivor = victim === a ? b : a;
        assert.equal(rx.hits[0]!.pid, victim.pid, 'the receiver knows the sending process');
        const ownerBefore = holders.at(-1)?.holder ?? null;
        assert.ok(ownerBefore !== null, 'the sink view names the delivering process');

        killedAt = Date.now();
        await victim.kill('SIGKILL');
        const deadAt = Date.now();
        await sleep(500);
        stop = true;
        await Promise.all(producing);
        assert.ok(acknowledged.length >= 100, `only ${acknowledged.length} events were acknowledged`);

        const delivered = () => new Set(rx.hits.map((h) => h.eventId));
        await until(
          'every acknowledged event delivered',
          () => {
            const got = delivered();
            return acknowledged.every((id) => got.has(id));
          },
          60_000,
        );
        // what the victim held in flight comes back with its ownership lease (3 s), not after a
        // long per-event lease: the whole backlog is through well before 30 s
        const drainedMs = Date.now() - killedAt;
        assert.ok(drainedMs < 20_000, `the backlog took ${drainedMs} ms after the kill`);
        watching = false;
        await watcher;

        // at least once, one webhook-id per event however often it came
        const idOf = new Map<string, string>();
        for (const h of rx.hits) {
          assert.equal(
            idOf.get(h.eventId) ?? h.webhookId,
            h.webhookId,
            `event ${h.eventId} came under two webhook-ids`,
          );
          idOf.set(h.eventId, h.webhookId);
        }
        // one process at a time: the victim only before its death, the survivor only after it
        assert.deepEqual(rx.overlaps, []);
        assert.ok(
          rx.hits.every((h) => h.pid === victim.pid || h.pid === survivor.pid),
          'every request came from a Rivulet process',
        );
        const fromSurvivor = rx.hits.filter((h) => h.pid === survivor.pid);
        // the receiver stamps a request when it parses it, which on a loaded machine can be a
        // little after bytes the victim wrote just before it died: allow that much, no more
        const lateMs = Math.max(0, ...rx.hits.filter((h) => h.pid === victim.pid).map((h) => h.start - deadAt));
        assert.ok(lateMs <= 1000, `the victim sent nothing after its death (a request parsed ${lateMs} ms after it)`);
        assert.ok(
          fromSurvivor.length > 0 && fromSurvivor.every((h) => h.start > killedAt),
          'the survivor sent nothing while the victim delivered',
        );
        const takeoverMs = Math.min(...fromSurvivor.map((h) => h.start)) - killedAt;
        // the lease had up to 3 s left; the survivor scans at a quarter of it
        assert.ok(takeoverMs < OWNER_LEASE_S * 1000 + 5000, `the survivor took over after ${takeoverMs} ms`);

        // the sink view: the victim's holder, then (perhaps nobody, then) the survivor's, never back
        const named = holders.map((h) => h.holder).filter((h): h is string => h !== null);
        const distinct = named.filter((h, i) => i === 0 || named[i - 1] !== h);
        assert.deepEqual(distinct, [ownerBefore, distinct[1]], `owners over time: ${JSON.stringify(holders)}`);
        assert.notEqual(distinct[1], ownerBefore);
        const duplicates = rx.hits.length - delivered().size;
        process.stdout.write(
          `# ${acknowledged.length} events, ${rx.hits.length} requests (${duplicates} redelivered), takeover after ${takeoverMs} ms, all delivered ${drainedMs} ms after the kill\n`,
        );
      } catch (err) {
        for (const p of [a, b])
          process.stderr.write(
            `# pid ${p.pid} output:\n${p.output().stderr.slice(-3000)}\n${p.output().stdout.slice(-3000)}\n`,
          );
        throw err;
      } finally {
        watching = false;
        await rx.close();
        await a.close();
        await b.close();
        await cluster.close();
      }
    },
  );
});
