#!/usr/bin/env node
// Runs the test tiers with Node's own test runner. Usage: node scripts/run-tests.mjs [unit|int|e2e ...]
// Node 20's --test does not expand globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const tiers = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const wanted = tiers.length > 0 ? tiers : ['unit', 'int', 'e2e'];
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
if (files.length === 0) {
  console.error(`no test files for tiers: ${wanted.join(', ')}`);
  process.exit(1);
}
const concurrency = process.env.RIVULET_TEST_CONCURRENCY ?? '2';
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' },
});
process.exit(result.status ?? 1);
