/** The docs the code keeps true: every error code, every setting and every source folder is documented. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../src/kernel/errors.js';
import { OPTIONS } from '../../src/config/options.js';
import { STATUS_BY_CODE } from '../../src/http/status-map.js';

describe('docs in step with the code', () => {
  it('docs/errors.md has one entry per error code, with its status', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    for (const code of Object.keys(ErrorCodes) as (keyof typeof ErrorCodes)[]) {
      assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${STATUS_BY_CODE[code]} \\|`), `docs/errors.md lacks ${code}`);
    }
  });

  it('the README configuration table lists every setting', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const spec of OPTIONS) {
      assert.ok(readme.includes(`\`${spec.env}\``) && readme.includes(`\`${spec.flag}\``), `README lacks ${spec.key}`);
    }
  });

  it('the layout table of docs/architecture.md names every folder of src/', () => {
    const doc = readFileSync('docs/architecture.md', 'utf8');
    const rows = doc.split('\n').filter((line) => line.startsWith('| `src/'));
    for (const entry of readdirSync('src', { withFileTypes: true }).filter((e) => e.isDirectory())) {
      assert.ok(
        rows.some((row) => row.startsWith(`| \`src/${entry.name}/`)),
        `docs/architecture.md's layout lacks src/${entry.name}/`,
      );
    }
  });
});
