/**
 * The built server as a real process (`node dist/cli/main.js serve`), for the end-to-end
 * tier and the benchmarks. It listens on a free port; the URL is read from the line the
 * server prints when it is ready, and the admin key from `<dataDir>/admin.key`.
 *
 * Pass `track` (from ./resources.js) inside a test so a process left running fails it;
 * benchmarks run outside the test runner and close their servers themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SERVER_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const READY = /Rivulet is listening on (http:\/\/\S+)/;
/** output kept for diagnostics; older output is dropped so a chatty server cannot grow memory */
const KEEP_OUTPUT = 64 * 1024;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcessOptions {
  dataDir: string;
  /** more `serve` flags, e.g. ['--durability', 'relaxed'] */
  args?: string[];
  env?: Record<string, string>;
  /** another build's dist/cli/main.js (a benchmark comparing two builds); this tree's by default */
  main?: string;
  /** node flags, e.g. ['--cpu-prof'] */
  nodeArgs?: string[];
  /** log level; requests are logged at info, which costs time in benchmarks */
  logLevel?: string;
  startTimeoutMs?: number;
  track?: <T>(name: string, resource: T, closed: () => boolean) => T;
}

export interface ServerProcess {
  url: string;
  adminKey: string;
  dataDir: string;
  pid: number;
  child: ChildProcess;
  /** settles when the process has exited */
  exited: Promise<Exit>;
  output(): { stdout: string; stderr: string };
  /** sends `signal` (SIGKILL by default) and waits for the exit */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM, a graceful shutdown; waits for the exit */
  close(): Promise<Exit>;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const main = options.main ?? SERVER_MAIN;
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
  const args = [
    ...(options.nodeArgs ?? []),
    main,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data-dir',
    options.dataDir,
    '--log-level',
    options.logLevel ?? 'warn',
    ...(options.args ?? []),
  ];
  const env: Record<string, string> = {};
  // a developer's own RIVULET_* settings must not leak into a test server
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RIVULET_') && v !== undefined) env[k] = v;
  const child = spawn(process.execPath, args, { env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  options.track?.(`server process ${child.pid} on ${options.dataDir}`, child, () => done);
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout = (stdout + chunk).slice(-KEEP_OUTPUT);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-KEEP_OUTPUT);
  });

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> => {
    if (!done) child.kill(signal);
    return exited;
  };

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the server did not start within ${options.startTimeoutMs ?? 60_000} ms`)),
        options.startTimeoutMs ?? 60_000,
      );
      const onData = () => {
        const m = READY.exec(stdout);
        if (m) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve(m[1]!);
        }
      };
      child.stdout!.on('data', onData);
      void exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`the server exited before it was ready (${exit.code ?? exit.signal})`));
      });
    });
  } catch (err) {
    await kill();
    throw new Error(`${(err as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`, { cause: err });
  }

  const adminKey = options.env?.RIVULET_ADMIN_KEY ?? readFileSync(`${options.dataDir}/admin.key`, 'utf8').trim();
  return {
    url,
    adminKey,
    dataDir: options.dataDir,
    pid: child.pid!,
    child,
    exited,
    output: () => ({ stdout, stderr }),
    kill,
    close: () => kill('SIGTERM'),
  };
}
