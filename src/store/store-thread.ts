/** Starts one of a store's threads (the SQLite append worker, the reader threads) from source or from the build. */
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Each thread is a V8 isolate of its own, and by default each may grow a young generation of
 * tens of MiB before it collects. These threads hold one group or one page at a time, so a
 * small young generation costs them little time and keeps the process's memory flat however
 * many reads run. The old generation is left room for the largest append group.
 */
const LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 512 };

/**
 * `entry` is a module beside `callerUrl` (the caller's `import.meta.url`), named without its
 * extension.
 */
export function spawnStoreThread(
  callerUrl: string,
  entry: string,
  workerData: unknown,
  limits: ResourceLimits = LIMITS,
): Worker {
  if (callerUrl.endsWith('.ts')) {
    // running from source under tsx (tests): a worker does not inherit tsx's loader, so register it first
    const url = new URL(`./${entry}.ts`, callerUrl).href;
    return new Worker(
      `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); })`,
      { eval: true, workerData, resourceLimits: limits },
    );
  }
  return new Worker(new URL(`./${entry}.js`, callerUrl), { workerData, resourceLimits: limits });
}
