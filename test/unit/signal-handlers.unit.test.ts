/** SIGTERM always ends `rivulet serve`: a close that stalls is given up on at the deadline. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const CHILD = fileURLToPath(new URL('../support/signal-child.ts', import.meta.url));

async function terminate(mode: 'hangs' | 'ends'): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (c: string) => {
      out += c;
      if (out.includes('ready\n')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the process did not exit within 10 s of SIGTERM'));
      }, 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const lines = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines };
}

test('a close that never ends: the process exits 1 at the deadline, naming the step it waited for', async () => {
  const { code, lines } = await terminate('hangs');
  assert.equal(code, 1);
  const last = lines.at(-1)!;
  assert.equal(last.level, 'error');
  assert.equal(last.msg, 'shutdown did not finish in time: exiting');
  assert.equal(last.step, 'sinks');
});

test('a close that ends: the process exits 0', async () => {
  const { code, lines } = await terminate('ends');
  assert.equal(code, 0);
  assert.ok(lines.some((l) => l.msg === 'shutting down: draining requests and workers'));
});
