/** Starts one of the store's threads (the append worker, the readers) from source or from the build. */
import { Worker } from 'node:worker_threads';

export function spawnStoreWorker(entry: 'append-worker' | 'reader-worker', workerData: unknown): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // running from source under tsx (tests): a worker does not inherit tsx's loader, so register it first
    const url = new URL(`./${entry}.ts`, here).href;
    return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); })`, { eval: true, workerData });
  }
  return new Worker(new URL(`./${entry}.js`, here), { workerData });
}
