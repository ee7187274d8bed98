// The scale scenario's ceiling: JetStream publish through the nats client alone, from a
// process the scenario puts in a CPU cgroup of its own. Creates `streams` streams (file
// storage, `replicas` replicas), then publishes envelope-sized messages over them in turn for
// `seconds`, a window of acks in flight, each with its Nats-Msg-Id as Rivulet sends them.
// Prints one JSON line: {"eventsPerS": …}.
// Usage: node raw-publisher.mjs <servers> <streams> <replicas> <seconds>
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const [servers, streamCount, replicas, seconds] = process.argv.slice(2);
const WINDOW = 1000;
const nc = await connect({ servers: servers.split(','), noAsyncTraces: true });
const jsm = await jetstreamManager(nc);
const names = [];
for (let s = 0; s < Number(streamCount); s++) {
  const name = `raw_${randomUUID().slice(0, 8)}`;
  await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.File, num_replicas: Number(replicas) });
  names.push(name);
}
const js = jetstream(nc);
const inFlight = new Set();
let acked = 0;
let i = 0;
const started = performance.now();
const until = started + Number(seconds) * 1000;
while (performance.now() < until) {
  const id = randomUUID();
  const name = names[i % names.length];
  const body = JSON.stringify({
    id,
    stream: 'bench',
    type: 'bench.reading',
    source: '/bench',
    data: { sensor: `s-${i % 16}`, value: i * 1.5, unit: 'celsius', tags: ['a', 'b'], ok: true },
    time: new Date().toISOString(),
    received: new Date().toISOString(),
    meta: {},
  });
  i++;
  const p = js
    .publish(`${name}.bench_reading.${id}`, body, { msgID: id })
    .then(
      () => {
        acked++;
      },
      () => undefined,
    )
    .finally(() => inFlight.delete(p));
  inFlight.add(p);
  if (inFlight.size >= WINDOW) await Promise.race(inFlight);
}
await Promise.all(inFlight);
const eventsPerS = acked / ((performance.now() - started) / 1000);
for (const name of names) await jsm.streams.delete(name).catch(() => false);
await nc.close();
process.stdout.write(`${JSON.stringify({ eventsPerS })}\n`);
