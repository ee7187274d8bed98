/**
 * Test resources that clean up after themselves, and a check that fails a test which
 * leaks one: every resource a test opens through `track` must be closed by the end of it.
 * A failed test keeps its data directories and prints where they are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'node:test';

interface Tracked {
  name: string;
  closed: () => boolean;
}

const open = new Set<Tracked>();
const dirs: string[] = [];

/** Registers a resource; `closed()` must be true by the end of the test. */
export function track<T>(name: string, resource: T, closed: () => boolean): T {
  open.add({ name, closed });
  return resource;
}

/** A fresh directory under the OS temp dir, removed after a passing test. */
export function tempDir(label = 'rivulet'): string {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  dirs.push(dir);
  return dir;
}

afterEach((t) => {
  const leaked = [...open].filter((r) => !r.closed());
  open.clear();
  const failed = (t as unknown as { passed?: boolean }).passed === false;
  const kept = dirs.splice(0);
  if (failed || leaked.length > 0) {
    for (const dir of kept) process.stderr.write(`# kept test data: ${dir}\n`);
  } else {
    for (const dir of kept) rmSync(dir, { recursive: true, force: true });
  }
  if (leaked.length > 0)
    throw new Error(`test leaked resources it did not close: ${leaked.map((r) => r.name).join(', ')}`);
});

/** opens a store and tracks it until its own close() has run, so a test that leaves it open fails */
export async function openTracked<S extends { open(): Promise<void>; close(): Promise<void> }>(
  name: string,
  store: S,
): Promise<S> {
  await store.open();
  let closed = false;
  const close = store.close.bind(store);
  store.close = async () => {
    closed = true;
    await close();
  };
  return track(name, store, () => closed);
}
