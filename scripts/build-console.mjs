#!/usr/bin/env node
// Bundles the web console (src/console/app) into static files: index.html, console.js,
// console.css. Usage: node scripts/build-console.mjs [--out dir] (default dist/console).
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = join(root, 'src/console/app');
const at = process.argv.indexOf('--out');
const out = at > 0 ? process.argv[at + 1] : join(root, 'dist/console');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { console: join(app, 'main.tsx') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
await build({
  entryPoints: { console: join(app, 'styles.css') },
  outdir: out,
  bundle: true,
  minify: true,
  logLevel: 'warning',
});
copyFileSync(join(app, 'index.html'), join(out, 'index.html'));

if (!process.argv.includes('--quiet')) {
  const sizes = ['console.js', 'console.css', 'index.html'].map((name) => {
    const body = readFileSync(join(out, name));
    return `${name} ${(body.length / 1024).toFixed(1)} KiB (${(gzipSync(body, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped)`;
  });
  console.log(`console → ${out}: ${sizes.join(', ')}`);
}
