#!/usr/bin/env node
// Runs the test tiers with Node's own test runner. Usage: node scripts/run-tests.mjs [unit|int|e2e|conformance ...]
// Node 20's --test does not expand globs, so the files are listed here. The Durable Streams
// conformance suite is a vitest suite (test/conformance/, vitest.config.ts); it runs with the
// int tier, after the node:test files, and alone as the `conformance` tier.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const tiers = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const wanted = tiers.length > 0 ? tiers : ['unit', 'int', 'e2e'];
const conformance = wanted.includes('int') || wanted.includes('conformance');
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (wanted.some((t) => name.endsWith(`.${t}.test.ts`))) files.push(path);
  }
}
walk('test');
files.sort();
if (files.length === 0 && !conformance) {
  console.error(`no test files for tiers: ${wanted.join(', ')}`);
  process.exit(1);
}
const concurrency = process.env.RIVULET_TEST_CONCURRENCY ?? '2';
let status = 0;
if (files.length > 0) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
    {
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'test' },
    },
  );
  status = result.status ?? 1;
}
if (conformance) {
  const result = spawnSync(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.config.ts'],
    {
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'test' },
    },
  );
  if (status === 0) status = result.status ?? 1;
}
process.exit(status);
