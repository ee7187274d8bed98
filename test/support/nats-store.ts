/**
 * A nats store for tests: opened on a running nats-server (see ./nats-server.ts) under a
 * fresh namespace, so every test starts empty on one shared server. Tracked: a store left
 * open fails the test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { NatsStore } from '../../src/store/nats/nats-store.js';
import { openTracked } from './resources.js';

export function freshNamespace(): string {
  return `t${randomBytes(6).toString('hex')}`;
}

/** a namespace of its own for each data dir, the same one each time the dir is opened */
export function namespaceOf(dataDir: string): string {
  return `t${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
}

export async function openNatsTestStore(
  servers: string,
  prefix = freshNamespace(),
  replicas = 1,
  options: { readerThreads?: number } = {},
): Promise<NatsStore> {
  return openTracked(
    `nats store ${prefix} on ${servers}`,
    new NatsStore({ servers: servers.split(','), prefix, replicas, ...options }),
  );
}

/** `count` (two or more) stores on one fresh namespace, as several Rivulet processes sharing a store see it */
export async function openSharedNatsTestStores(
  servers: string,
  count = 2,
): Promise<[NatsStore, NatsStore, ...NatsStore[]]> {
  const prefix = freshNamespace();
  const first = await openNatsTestStore(servers, prefix);
  const second = await openNatsTestStore(servers, prefix);
  const more: NatsStore[] = [];
  for (let i = 2; i < count; i++) more.push(await openNatsTestStore(servers, prefix));
  return [first, second, ...more];
}
