/**
 * Real `nats-server` processes for tests and benchmarks: a single JetStream node, or a
 * 3-node JetStream cluster, each on free ports with its own temp store directory (`-sd`).
 *
 * Inside a test pass `track` (from ./resources.js) so a node left running fails the test;
 * benchmarks stop their servers themselves. `kill()` is SIGKILL — the failover tests use it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const BINARY = process.env.NATS_SERVER_BIN ?? 'nats-server';
const KEEP_OUTPUT = 32 * 1024;

export interface NatsNode {
  name: string;
  /** client URL, nats://127.0.0.1:<port> */
  url: string;
  port: number;
  storeDir: string;
  child: ChildProcess;
  exited: Promise<void>;
  alive(): boolean;
  output(): string;
  /** SIGKILL, then waits for the exit */
  kill(): Promise<void>;
  /** SIGTERM (lame duck is not needed in tests), then waits for the exit */
  stop(): Promise<void>;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** every node's client URL, comma-separated: what `--store` takes */
  servers: string;
  close(): Promise<void>;
}

export interface NatsServerOptions {
  track?: <T>(name: string, resource: T, closed: () => boolean) => T;
  /** parent directory of the store dirs; a fresh temp dir by default */
  dir?: string;
  /** `always` fsyncs every write before the ack (nats-server 2.10 and later; see docs/store-nats.md) */
  syncInterval?: string;
  /** JetStream's disk limit (`max_file_store`, e.g. `2MB`): a tiny one makes a full store cheaply */
  maxFileStore?: string;
  startTimeoutMs?: number;
}

/** true when a nats-server binary can be run here */
export function natsServerAvailable(): boolean {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  return probe.status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One JetStream node, ready to take clients. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsCluster> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rivulet-nats-'));
  const node = await withFreshPorts(async () =>
    spawnNode({ name: 'n1', port: await freePort(), dir, options, cluster: null }),
  );
  return clusterOf([node], options.dir === undefined ? dir : null);
}

/**
 * A port found free can be taken by another process before nats-server binds it (tests run
 * files in parallel): such a start is tried again on new ports, a few times.
 */
async function withFreshPorts<T>(start: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !/address already in use/.test(String((err as Error).message))) throw err;
    }
  }
}

/** Three JetStream nodes routed into one cluster, with a JetStream meta leader elected. */
export async function startNatsCluster(options: NatsServerOptions = {}): Promise<NatsCluster> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rivulet-nats-'));
  const nodes = await withFreshPorts(async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const routePorts = [await freePort(), await freePort(), await freePort()];
    const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(',');
    // every node's outcome, so the ones that did start are stopped when another did not:
    // a node left running would also keep the test process from ever exiting
    const outcomes = await Promise.allSettled(
      ports.map((port, i) =>
        spawnNode({ name: `n${i + 1}`, port, dir, options, cluster: { port: routePorts[i]!, routes } }),
      ),
    );
    const started = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    try {
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      await waitForMetaLeader(started, options.startTimeoutMs ?? 20_000);
      await waitForPlacement(started, options.startTimeoutMs ?? 20_000);
      return started;
    } catch (err) {
      await Promise.all(started.map((n) => n.kill()));
      // a fresh attempt starts from empty store directories
      for (const n of started) rmSync(n.storeDir, { recursive: true, force: true });
      throw err;
    }
  });
  return clusterOf(nodes, options.dir === undefined ? dir : null);
}

function clusterOf(nodes: NatsNode[], ownDir: string | null): NatsCluster {
  return {
    nodes,
    servers: nodes.map((n) => n.url).join(','),
    async close() {
      await Promise.all(nodes.map((n) => n.stop()));
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

interface SpawnArgs {
  name: string;
  port: number;
  dir: string;
  options: NatsServerOptions;
  cluster: { port: number; routes: string } | null;
}

async function spawnNode({ name, port, dir, options, cluster }: SpawnArgs): Promise<NatsNode> {
  const storeDir = join(dir, name);
  // A config file rather than flags: sync_interval has no command-line flag.
  const conf = [
    `server_name: ${name}`,
    `listen: 127.0.0.1:${port}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(storeDir)}`,
    ...(options.syncInterval ? [`  sync_interval: ${options.syncInterval}`] : []),
    ...(options.maxFileStore ? [`  max_file_store: ${options.maxFileStore}`] : []),
    '}',
    ...(cluster
      ? [
          'cluster {',
          '  name: rivulet-test',
          `  listen: 127.0.0.1:${cluster.port}`,
          `  routes: [${cluster.routes
            .split(',')
            .map((r) => JSON.stringify(r))
            .join(', ')}]`,
          '}',
        ]
      : []),
  ].join('\n');
  const confFile = join(dir, `${name}.conf`);
  writeFileSync(confFile, conf);
  const child = spawn(BINARY, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let done = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      done = true;
      resolve();
    }),
  );
  const keep = (chunk: string) => {
    out = (out + chunk).slice(-KEEP_OUTPUT);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  child.once('error', (err) => keep(`spawn failed: ${err.message}`));
  options.track?.(`nats-server ${name} on port ${port}`, child, () => done);
  const node: NatsNode = {
    name,
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    child,
    exited,
    alive: () => !done,
    output: () => out,
    async kill() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!done) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  while (!/Server is ready/.test(out)) {
    if (done) throw new Error(`nats-server ${name} exited before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      await node.kill();
      throw new Error(`nats-server ${name} was not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await waitForPort(port, deadline);
  return node;
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never accepted a connection`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A cluster can only create streams once its JetStream meta group has a leader. */
/**
 * A meta leader is elected before every peer is known to it: until then a stream of three
 * replicas is refused ("no suitable peers for placement"). Waits until one can be placed.
 */
async function waitForPlacement(nodes: NatsNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers: nodes.map((n) => n.url) });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    for (;;) {
      try {
        await jsm.streams.add({
          name: 'placement_probe',
          subjects: ['placement_probe.>'],
          num_replicas: 3,
          storage: StorageType.Memory,
        });
        await jsm.streams.delete('placement_probe');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the cluster cannot place 3 replicas in time: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}

async function waitForMetaLeader(nodes: NatsNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pattern = /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/;
  while (!nodes.some((n) => pattern.test(n.output()))) {
    if (Date.now() > deadline)
      throw new Error(`no JetStream meta leader in time:\n${nodes.map((n) => n.output()).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
