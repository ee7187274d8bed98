/**
 * Connection settings of the nats store and the one function that dials the cluster.
 * `--store nats://host:4222,host2:4222` names the seed servers; credentials and TLS come
 * from their own options so secrets never sit in a URL that may be logged.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';

export interface NatsStoreOptions {
  /** `nats://host:port` URLs (or `tls://`); several seed the client's view of the cluster */
  servers: string[];
  /** a NATS `.creds` file (JWT + NKey seed) */
  credsFile?: string;
  /** a PEM bundle of the CAs that sign the servers' certificates; turns TLS on */
  tlsCaFile?: string;
  /** copies of each JetStream stream and KV bucket (1, 3 or 5 in a cluster) */
  replicas?: number;
  /** namespace of every stream, subject and bucket Rivulet creates */
  prefix?: string;
  /** how long an Idempotency-Key and a producer-supplied event id are remembered */
  idempotencyWindowMs?: number;
  /** client name shown by the server's monitoring */
  name?: string;
  /**
   * threads that read whole pages on connections of their own (1 by default); 0 reads pages on
   * the event loop's connection
   */
  readerThreads?: number;
}

/** `nats://a:4222,b:4222` (the `--store` value) → server URLs; `nats+tls://` asks for TLS */
export function parseNatsUrl(value: string): { servers: string[]; tls: boolean } {
  const tls = value.startsWith('nats+tls://');
  const rest = value.replace(/^nats(\+tls)?:\/\//, '');
  const servers = rest
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const bare = s.replace(/^(nats|tls|nats\+tls):\/\//, '');
      return `${tls ? 'tls' : 'nats'}://${bare}`;
    });
  if (servers.length === 0) throw new Error(`no NATS server in "${value}"`);
  return { servers, tls };
}

export async function dialNats(options: NatsStoreOptions): Promise<NatsConnection> {
  return connect({
    servers: options.servers,
    name: options.name ?? `rivulet-${process.pid}`,
    // a Rivulet process outlives any one node: keep reconnecting, the cluster will be back
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // a first connection that hangs (a stalled node) is given up early and tried again by the
    // runtime, which reports why meanwhile; the client's own default waits 20 s
    timeout: 5000,
    // every request would otherwise build an Error with a captured stack up front, in case it
    // fails: a large share of the CPU of a busy process (errors still carry their own stacks)
    noAsyncTraces: true,
    // the store's only core-NATS subscription that this connection also publishes to is the
    // append announcements, and a process has acted on its own before sending them: echoing
    // each back would cost a socket read and a parse per append for nothing
    noEcho: true,
    ...(options.credsFile ? { authenticator: credsAuthenticator(readFileSync(options.credsFile)) } : {}),
    ...(options.tlsCaFile ? { tls: { caFile: options.tlsCaFile } } : {}),
  });
}
