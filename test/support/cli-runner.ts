/**
 * The `rivulet` client CLI as a real process (`node dist/cli/main.js <args>`) for the
 * end-to-end tier: each run gets its own config home, so no developer profile or RIVULET_*
 * setting leaks in. Every child is tracked (./resources.js), so a CLI left running fails its
 * test.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { track } from './resources.js';
import { SERVER_MAIN } from './server-process.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** text for stdin */
  input?: string;
  /** a file piped to stdin */
  inputFile?: string;
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  closed: Promise<CliRun>;
}

/** Starts `rivulet <args>` with `home` as HOME and `home/config` as XDG_CONFIG_HOME. */
export function startCli(home: string, args: string[], options: CliOptions = {}): RunningCli {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RIVULET_') && v !== undefined) env[k] = v;
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, 'config') }, options.env);
  const child = spawn(process.execPath, [SERVER_MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let exited = false;
  track(`cli ${args.join(' ')}`, child, () => exited);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  if (options.inputFile !== undefined) createReadStream(options.inputFile).pipe(child.stdin);
  else child.stdin.end(options.input ?? '');
  const closed = new Promise<CliRun>((resolve) =>
    child.once('close', (code) => {
      exited = true;
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, closed };
}

/** Runs `rivulet <args>` to its end. */
export const runCli = (home: string, args: string[], options: CliOptions = {}): Promise<CliRun> =>
  startCli(home, args, options).closed;

/** The run's stdout as one JSON document; the run must have exited 0. */
export function parseJson<T>(run: CliRun): T {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** NDJSON text as values, one per non-empty line. */
export const ndjsonLines = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

/** Polls `check` every 50 ms until it holds, or fails naming `what`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
