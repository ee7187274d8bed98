/**
 * The lint rules that hold the floors and the dialects' walls (eslint.config.js) fire: each
 * forbidden import is linted as if written in a file of that layer, through ESLint's own API
 * and the project's own config, beside an allowed import in the same place that passes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function importErrors(filePath: string, specifier: string): Promise<string[]> {
  const code = `import type { X } from '${specifier}';\nexport type Y = X;\n`;
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

async function assertRefused(filePath: string, specifier: string, because: RegExp): Promise<void> {
  const errors = await importErrors(filePath, specifier);
  assert.equal(errors.length, 1, `${filePath} importing ${specifier} should be refused`);
  assert.match(errors[0]!, because);
}

async function assertAllowed(filePath: string, specifier: string): Promise<void> {
  assert.deepEqual(await importErrors(filePath, specifier), [], `${filePath} importing ${specifier} should pass`);
}

describe('layer rules (eslint.config.js)', () => {
  it('kernel imports nothing of ours outside itself', async () => {
    await assertRefused('src/kernel/new-basic.ts', '../core/services.js', /kernel is the floor/);
    await assertRefused('src/kernel/new-basic.ts', '../store/port.js', /kernel is the floor/);
    await assertRefused('src/kernel/new-basic.ts', '../mapping/expression.js', /kernel is the floor/);
    await assertAllowed('src/kernel/new-basic.ts', './errors.js');
  });

  it('mapping sits on the kernel alone', async () => {
    await assertRefused('src/mapping/new-map.ts', '../core/streams/stream-service.js', /mapping sits on the kernel/);
    await assertAllowed('src/mapping/new-map.ts', '../kernel/errors.js');
  });

  it('store imports no core', async () => {
    await assertRefused('src/store/sqlite/new-part.ts', '../../core/services.js', /store imports no core/);
    await assertRefused('src/store/nats/new-part.ts', '../../core/events/produce.js', /store imports no core/);
    await assertRefused('src/store/new-port-part.ts', '../http/app.js', /know nothing of HTTP/);
    await assertAllowed('src/store/sqlite/new-part.ts', '../../kernel/envelope.js');
    await assertAllowed('src/store/sqlite/new-part.ts', '../port.js');
  });

  it('core imports no dialect and no edge', async () => {
    await assertRefused(
      'src/core/streams/new-part.ts',
      '../../dialects/okdata/okdata-service.js',
      /core imports no dialect/,
    );
    await assertRefused('src/core/new-part.ts', '../http/app.js', /pure domain/);
    await assertRefused('src/core/new-part.ts', '../store/sqlite/sqlite-store.js', /pure domain/);
    await assertAllowed('src/core/new-part.ts', '../store/port.js');
  });

  it('http imports no dialect', async () => {
    await assertRefused('src/http/app-part.ts', '../dialects/okdata/okdata-plugin.js', /http imports no dialect/);
    await assertRefused(
      'src/http/routes/new-routes.ts',
      '../../dialects/aether/aether-jobs.js',
      /http imports no dialect/,
    );
    await assertAllowed('src/http/routes/new-routes.ts', '../../core/services.js');
  });

  it('a dialect imports no store and no other dialect', async () => {
    await assertRefused('src/dialects/aether/new-part.ts', '../../store/port.js', /imports no store/);
    await assertRefused(
      'src/dialects/durable-streams/new-part.ts',
      '../../store/sqlite/sqlite-store.js',
      /imports no store/,
    );
    await assertRefused('src/dialects/okdata/new-part.ts', '../iflux/iflux-input.js', /no other dialect/);
    await assertRefused(
      'src/dialects/iflux/new-part.ts',
      '../../dialects/eventserver/eventserver-plugin.js',
      /no other dialect/,
    );
    await assertRefused('src/dialects/specstore/new-part.ts', '../../runtime/dialects.js', /composed by the runtime/);
    await assertAllowed('src/dialects/okdata/new-part.ts', './okdata-service.js');
    await assertAllowed('src/dialects/okdata/new-part.ts', '../../core/ports.js');
    await assertAllowed('src/dialects/okdata/new-part.ts', '../../http/dialect.js');
  });
});
