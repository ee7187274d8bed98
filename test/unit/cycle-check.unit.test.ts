/**
 * `npm run check:cycles` counts a cycle made only of type imports: the package's own command is
 * run over two modules that import each other's types, and over two that do not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const script = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts[
  'check:cycles'
]!;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function checkCycles(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-cycles-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const command = script.replace("'src/**/*.ts'", `'${dir}/*.ts'`);
  const result = spawnSync(command, {
    shell: true,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${resolve('node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}` },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the cycle check', () => {
  it('runs over all of src', () => {
    assert.match(script, /'src\/\*\*\/\*\.ts'/);
  });

  it('fails on a cycle of type-only imports', () => {
    const { status, output } = checkCycles({
      'rule.ts': "import type { Sink } from './sink.js';\nexport interface Rule { sink: Sink }\n",
      'sink.ts': "import type { Rule } from './rule.js';\nexport interface Sink { rule: Rule }\n",
    });
    assert.equal(status, 1, output);
    assert.match(output, /rule\.ts|sink\.ts/);
  });

  it('passes the same modules once one no longer imports the other', () => {
    const { status, output } = checkCycles({
      'rule.ts': "import type { Sink } from './sink.js';\nexport interface Rule { sink: Sink }\n",
      'sink.ts': 'export interface Sink { id: string }\n',
    });
    assert.equal(status, 0, output);
  });
});
