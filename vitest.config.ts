// The Durable Streams conformance suite is a vitest suite; scripts/run-tests.mjs runs it with
// this config after the node:test tiers. Everything else runs on node:test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/conformance/**/*.conformance.ts'],
    // one store per file, files one after another: the machine is small
    fileParallelism: false,
    // generous: some of the suite's tests check 100 KiB byte by byte, slow on a busy machine
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['dot'],
  },
});
