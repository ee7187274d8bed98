/**
 * Runs the benchmark scenarios in bench/scenarios/*.bench.ts (all, or those whose file or
 * name contains an argument: `npm run bench -- ingest`), prints one table and writes
 * bench/results/latest.json.
 */
import { cpus, freemem, totalmem } from 'node:os';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createContext, type Row, type Scenario } from './context.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = readdirSync(`${here}scenarios`)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const rows: Row[] = [];
let failed = false;

for (const file of files) {
  const { scenario } = (await import(pathToFileURL(`${here}scenarios/${file}`).href)) as { scenario: Scenario };
  if (filters.length > 0 && !filters.some((f) => file.includes(f) || scenario.name.includes(f))) continue;
  process.stderr.write(`running ${scenario.name}…\n`);
  const { ctx, cleanup } = createContext();
  try {
    rows.push(...(await scenario.run(ctx)));
  } catch (err) {
    failed = true;
    process.stderr.write(`${scenario.name} failed: ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    await cleanup();
  }
}

printTable(rows);
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  freeGiB: Math.round(freemem() / 2 ** 30),
  node: process.version,
  platform: process.platform,
};
mkdirSync(`${here}results`, { recursive: true });
writeFileSync(
  `${here}results/latest.json`,
  `${JSON.stringify({ at: new Date().toISOString(), machine, rows }, null, 2)}\n`,
);
process.stderr.write(`wrote bench/results/latest.json\n`);
if (failed) process.exitCode = 1;
// A scenario that failed part-way can leave its client workers running; they must not keep the
// run from ending once the results are out (the timer itself holds nothing open).
setTimeout(() => process.exit(), 2_000).unref();

function printTable(all: Row[]): void {
  const header = ['scenario', 'case', 'metric', 'value', 'unit', 'ceiling', 'ratio', 'goal', 'pass'];
  const fmt = (n: number | undefined) =>
    n === undefined ? '' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
  const cells = all.map((r) => [
    r.scenario,
    r.case,
    r.metric,
    fmt(r.value),
    r.unit,
    fmt(r.ceiling),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.goal ?? '',
    r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c.map((v, i) => (i >= 3 && i <= 6 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}
