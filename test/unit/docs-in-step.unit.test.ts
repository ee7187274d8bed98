/** The docs the code keeps true: every error code and every setting is documented. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
});
