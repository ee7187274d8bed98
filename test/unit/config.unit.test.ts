import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { OPTIONS } from '../../src/config/options.js';
import { tempDir } from '../support/resources.js';

function file(name: string, text: string): string {
  const path = join(tempDir('rivulet-config'), name);
  writeFileSync(path, text);
  return path;
}

const configError = (pattern: RegExp) => (e: unknown) => e instanceof ConfigError && pattern.test(e.message);

describe('config loading', () => {
  it('cors origins: a list or *, each a bare origin; log format: auto, pretty or json', () => {
    assert.equal(loadConfig({}).corsOrigin, undefined);
    assert.deepEqual(
      loadConfig({ env: { RIVULET_CORS_ORIGIN: 'https://app.example.com, http://localhost:5173' } }).corsOrigin,
      ['https://app.example.com', 'http://localhost:5173'],
    );
    assert.deepEqual(loadConfig({ flags: { corsOrigin: '*' } }).corsOrigin, ['*']);
    assert.throws(
      () => loadConfig({ env: { RIVULET_CORS_ORIGIN: 'https://app.example.com/' } }),
      /no path or trailing slash/,
    );
    assert.throws(() => loadConfig({ env: { RIVULET_CORS_ORIGIN: 'app.example.com' } }), ConfigError);
    assert.equal(loadConfig({}).logFormat, 'auto');
    assert.equal(loadConfig({ env: { RIVULET_LOG_FORMAT: 'json' } }).logFormat, 'json');
    assert.throws(() => loadConfig({ flags: { logFormat: 'xml' } }), /not one of auto, pretty, json/);
  });

  it('uses the defaults when nothing is set', () => {
    const config = loadConfig();
    for (const spec of OPTIONS) assert.deepEqual(config[spec.key], spec.default, spec.key);
  });

  it('takes flags over env over file over defaults', () => {
    const yaml = file('c.yaml', 'port: 1111\nhost: 0.0.0.0\nlogLevel: debug\nbodyLimit: 2048\n');
    const env = { RIVULET_PORT: '2222', RIVULET_HOST: '::1' };
    const config = loadConfig({ file: yaml, env, flags: { port: '3333' } });
    assert.equal(config.port, 3333, 'flag wins');
    assert.equal(config.host, '::1', 'env beats file');
    assert.equal(config.logLevel, 'debug', 'file beats default');
    assert.equal(config.bodyLimit, 2048);
    assert.equal(config.maxBatchEvents, 10_000, 'default');
    assert.equal(loadConfig({ env: { RIVULET_PORT: '' } }).port, 8080, 'an empty variable is unset');
  });

  it('reads JSON files, and RIVULET_CONFIG names the file', () => {
    const json = file('c.json', JSON.stringify({ durability: 'relaxed', trustProxy: true, maxReadLimit: 50 }));
    const config = loadConfig({ env: { RIVULET_CONFIG: json } });
    assert.equal(config.durability, 'relaxed');
    assert.equal(config.trustProxy, true);
    assert.equal(config.maxReadLimit, 50);
    assert.deepEqual(loadConfig({ file: file('empty.yaml', '') }).port, 8080);
  });

  it('coerces booleans and integers from text', () => {
    assert.equal(loadConfig({ env: { RIVULET_TRUST_PROXY: 'yes' } }).trustProxy, true);
    assert.equal(loadConfig({ env: { RIVULET_TRUST_PROXY: 'off' } }).trustProxy, false);
    assert.equal(loadConfig({ flags: { trustProxy: true } }).trustProxy, true);
    assert.equal(loadConfig({ env: { RIVULET_PORT: ' 9000 ' } }).port, 9000);
  });

  it('names the source of every kind of bad value', () => {
    assert.throws(
      () => loadConfig({ env: { RIVULET_PORT: 'eighty' } }),
      configError(/^\$RIVULET_PORT: "eighty" is not a whole number/),
    );
    assert.throws(() => loadConfig({ env: { RIVULET_PORT: '1.5' } }), configError(/not a whole number/));
    assert.throws(
      () => loadConfig({ flags: { port: '70000' } }),
      configError(/^--port: 70000 is above the maximum 65535/),
    );
    assert.throws(
      () => loadConfig({ flags: { bodyLimit: '10' } }),
      configError(/--body-limit: 10 is below the minimum 1024/),
    );
    assert.throws(
      () => loadConfig({ env: { RIVULET_DURABILITY: 'sometimes' } }),
      configError(/"sometimes" is not one of strict, relaxed/),
    );
    assert.throws(
      () => loadConfig({ env: { RIVULET_TRUST_PROXY: 'maybe' } }),
      configError(/"maybe" is not true or false/),
    );
    assert.throws(
      () => loadConfig({ env: { RIVULET_STORE: 'postgres' } }),
      configError(/store must be "sqlite" or a nats:\/\/ URL/),
    );
    const yaml = file('bad.yaml', 'host: [1, 2]\n');
    assert.throws(
      () => loadConfig({ file: yaml }),
      configError(new RegExp(`${yaml.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: host: expected text`)),
    );
  });

  it('refuses unreadable, malformed, non-mapping files and unknown keys', () => {
    assert.throws(
      () => loadConfig({ file: '/nonexistent/rivulet.yaml' }),
      configError(/cannot read config file \/nonexistent\/rivulet.yaml/),
    );
    assert.throws(() => loadConfig({ file: file('bad.json', '{"port": ') }), configError(/is not valid JSON/));
    assert.throws(() => loadConfig({ file: file('bad.yaml', 'port: [\n') }), configError(/is not valid YAML/));
    assert.throws(() => loadConfig({ file: file('list.yaml', '- a\n- b\n') }), configError(/must hold a mapping/));
    assert.throws(() => loadConfig({ file: file('typo.yaml', 'prot: 80\n') }), configError(/unknown setting "prot"/));
  });
});
