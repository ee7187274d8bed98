/**
 * What a benchmark scenario gets to work with: servers as separate processes on temp dirs,
 * a load driver, and cleanup of everything it started.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startServerProcess, type ServerProcess } from '../test/support/server-process.js';
import { pacedLoader, type PacedOptions, type PacedResult } from './paced-load.js';

export interface Row {
  scenario: string;
  case: string;
  metric: string;
  value: number;
  unit: string;
  /** the same metric measured on the ceiling */
  ceiling?: number;
  /** value ÷ ceiling */
  ratio?: number;
  /** the goal, in `unit` (or as a ratio when the goal is relative) */
  goal?: string;
  pass?: boolean;
}

export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  durationS?: number;
}

export interface LoadResult {
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
  /** answers per HTTP status, e.g. `{ "201": 900, "503": 12 }` (errors and timeouts are in `failed` only) */
  statuses: Record<string, number>;
}

export interface BenchContext {
  tempDir(label?: string): string;
  /** Rivulet, built, with durable (strict) acks unless other flags say otherwise */
  /** `main`: another build's dist/cli/main.js (this tree's by default) */
  startRivulet(options?: { args?: string[]; nodeArgs?: string[]; main?: string }): Promise<ServerProcess>;
  /** the bare node:http ceiling server, or another server script (with its arguments) that prints `listening on <url>` */
  startCeiling(script?: string, args?: string[]): Promise<{ url: string; close(): Promise<void> }>;
  freePort(): Promise<number>;
  /** closed-loop load: a fixed number of connections, as fast as answers come */
  load(options: LoadOptions): Promise<LoadResult>;
  /** open-loop load: POSTs at a fixed rate; answers how many were sent and how fast they were answered (see paced-load.ts) */
  pace(options: PacedOptions): Promise<PacedResult>;
  /** one POST for setup steps; answers the JSON body */
  post<T = unknown>(url: string, headers: Record<string, string>, body: unknown): Promise<T>;
}

export interface Scenario {
  name: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

const CEILING = fileURLToPath(new URL('./ceiling-server.mjs', import.meta.url));

export function createContext(): { ctx: BenchContext; cleanup(): Promise<void> } {
  const closers: (() => Promise<unknown>)[] = [];
  const dirs: string[] = [];
  const paced = pacedLoader();
  const ctx: BenchContext = {
    tempDir(label = 'rivulet-bench') {
      const dir = mkdtempSync(join(tmpdir(), `${label}-`));
      dirs.push(dir);
      return dir;
    },
    async startRivulet(options = {}) {
      const server = await startServerProcess({
        dataDir: ctx.tempDir(),
        args: ['--durability', 'strict', ...(options.args ?? [])],
        nodeArgs: options.nodeArgs,
        main: options.main,
        logLevel: 'warn',
      });
      closers.push(() => server.close());
      return server;
    },
    async startCeiling(script = CEILING, args: string[] = []) {
      const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((r) => child.once('exit', r));
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (c: string) => {
          out += c;
          const m = /listening on (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        void exited.then(() => reject(new Error(`${script} exited before it listened`)));
      });
      const close = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      };
      closers.push(close);
      return { url, close };
    },
    freePort() {
      return new Promise((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
          const { port } = srv.address() as { port: number };
          srv.close(() => resolve(port));
        });
      });
    },
    async load(options) {
      const result = await autocannon({
        url: options.url,
        method: options.method ?? 'POST',
        headers: options.headers,
        body: options.body,
        connections: options.connections ?? 50,
        duration: options.durationS ?? 5,
        timeout: 30,
      });
      return {
        requestsPerS: result['2xx'] / result.duration,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        ok: result['2xx'],
        failed: result.non2xx + result.errors + result.timeouts,
        statuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
      };
    },
    // closures, not methods: they need no `this`
    pace: paced.pace,
    post: paced.post,
  };
  return {
    ctx,
    async cleanup() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      await paced.close();
    },
  };
}
