/**
 * A real HAProxy (Debian's `haproxy`, or HAPROXY_BIN) in front of Rivulet processes, for the
 * rolling-restart test. Its configuration is the one docs/operations.md recommends: health
 * checks on `/readyz`, and requests that never reached a server (refused or reset connection,
 * empty answer) tried again on another one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './nats-server.js';

// Debian installs it in /usr/sbin, which a non-login PATH may lack
const BINARY = process.env.HAPROXY_BIN ?? (existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy');

export interface LoadBalancer {
  url: string;
  child: ChildProcess;
  output(): string;
  close(): Promise<void>;
}

export function haproxyAvailable(): boolean {
  return spawnSync(BINARY, ['-v'], { encoding: 'utf8' }).status === 0;
}

export interface HaproxyOptions {
  /**
   * a stream's appends and reads through one process (docs/operations.md#routing-by-stream):
   * the by-stream backend the docs show beside the round-robin one
   */
  routeByStream?: boolean;
}

/** the configuration docs/operations.md shows, for `backends` (host:port each) */
export function haproxyConfig(port: number, backends: string[], options: HaproxyOptions = {}): string {
  const checks = [
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 500ms fall 1 rise 1',
    ...backends.map((b, i) => `  server r${i + 1} ${b} check`),
  ];
  return [
    'global',
    '  maxconn 1000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response response-timeout',
    'frontend rivulet',
    `  bind 127.0.0.1:${port}`,
    ...(options.routeByStream
      ? [
          '  acl stream_path path_reg ^/v1/streams/[^/]+/events$',
          '  acl ds_path path_beg /ds/',
          '  use_backend rivulet_by_stream if stream_path || ds_path',
        ]
      : []),
    '  default_backend rivulet',
    'backend rivulet',
    '  balance roundrobin',
    ...checks,
    ...(options.routeByStream
      ? ['backend rivulet_by_stream', '  balance uri', '  hash-type consistent', ...checks]
      : []),
    '',
  ].join('\n');
}

export async function startHaproxy(
  dir: string,
  backends: string[],
  track?: <T>(name: string, resource: T, closed: () => boolean) => T,
  options: HaproxyOptions = {},
): Promise<LoadBalancer> {
  const port = await freePort();
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, backends, options));
  const check = spawnSync(BINARY, ['-c', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy refused its configuration: ${check.stdout}${check.stderr}`);
  const child = spawn(BINARY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output = (output + c).slice(-32_768)));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output = (output + c).slice(-32_768)));
  track?.(`haproxy ${child.pid}`, child, () => exited);
  const url = `http://127.0.0.1:${port}`;
  // ready once it answers at all (a 503 before any backend's first check is an answer)
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch (err) {
      if (exited || i > 100) throw new Error(`haproxy did not start: ${output}`, { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    child,
    output: () => output,
    close: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
