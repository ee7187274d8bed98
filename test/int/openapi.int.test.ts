/**
 * The OpenAPI document: complete (every route, each dialect, /metrics), with a stable unique
 * operationId per operation, tags, servers, public routes marked public, the statuses every
 * route can answer, its media types; valid to swagger-parser and clean of errors to `redocly
 * lint` (which runs on the written document, as a user of the API would run it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { declaredRoutes } from '../../src/http/plugins/auth.js';
import { OPERATION_IDS } from '../../src/http/openapi.js';
import { tempDir } from '../support/resources.js';
import { buildTestApp } from '../support/test-app.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
  requestBody?: { content: Record<string, unknown> };
}
interface Doc {
  openapi: string;
  servers?: unknown[];
  tags?: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const REDOCLY = join(import.meta.dirname, '../../node_modules/.bin/redocly');

describe('the OpenAPI document', () => {
  it('names, tags and answers every operation, and passes swagger-parser and redocly lint', async () => {
    const t = await buildTestApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      assert.equal(res.statusCode, 200);
      const doc = res.json() as Doc;
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(doc.servers && doc.servers.length > 0, 'servers');
      const tagNames = new Set((doc.tags ?? []).map((tag) => tag.name));

      const ids = new Map<string, string>();
      const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ path, method, op })),
      );
      for (const { path, method, op } of operations) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(op.operationId, `${where} has no operationId`);
        assert.ok(!ids.has(op.operationId), `${where} and ${ids.get(op.operationId)} share ${op.operationId}`);
        ids.set(op.operationId, where);
        assert.ok(op.tags?.length && op.tags.every((tag) => tagNames.has(tag)), `${where} has no declared tag`);
        assert.ok(op.responses['503'], `${where} does not document 503`);
      }

      // the native routes take their names from the one table, so a new route is named on purpose
      for (const route of declaredRoutes(t.app)) {
        const methods = (Array.isArray(route.method) ? route.method : [route.method]) as string[];
        for (const method of methods.filter((m) => m !== 'HEAD')) {
          if (!route.url.startsWith('/v1/')) continue;
          const id = OPERATION_IDS[`${method} ${route.url}`];
          assert.ok(id, `${method} ${route.url} is not in OPERATION_IDS (src/http/openapi.ts)`);
          const documented = doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
          assert.equal(documented?.operationId, id, `${method} ${route.url}`);
          if (route.config?.access?.scope !== 'public') {
            assert.ok(
              documented.responses['401'] && documented.responses['429'],
              `${method} ${route.url} lacks 401 or 429`,
            );
          }
        }
      }

      // every dialect is documented, public routes are marked public, /metrics is there
      for (const dialect of ['eventserver', 'iflux', 'specstore', 'aether', 'okdata', 'durable-streams']) {
        assert.ok(
          operations.some(({ op }) => op.tags?.includes(`dialect: ${dialect}`)),
          `no ${dialect} operation`,
        );
      }
      assert.deepEqual(doc.paths['/healthz']!.get!.security, []);
      assert.deepEqual(doc.paths['/readyz']!.get!.security, []);
      assert.equal(doc.paths['/v1/streams']!.get!.security, undefined, "a keyed route keeps the document's security");
      assert.ok(doc.paths['/metrics']?.get?.responses['200']?.content?.['text/plain; version=0.0.4']);
      assert.equal(doc.paths['/metrics']!.get!.operationId, 'getMetrics');

      // media types
      const produce = doc.paths['/v1/streams/{name}/events']!.post!;
      for (const type of ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json']) {
        assert.ok(produce.requestBody?.content[type], `produce lacks ${type}`);
      }
      assert.ok(
        produce.responses['400']?.content?.['application/problem+json'],
        'problems are application/problem+json',
      );
      assert.ok(
        doc.paths['/v1/streams/{name}/events']!.get!.responses['200']!.content!['application/cloudevents-batch+json'],
      );
      assert.ok(doc.paths['/v1/streams/{name}/live']!.get!.responses['200']!.content!['text/event-stream']);

      await SwaggerParser.validate(structuredClone(doc) as never);

      const file = join(tempDir('rivulet-openapi'), 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const lint = spawnSync(REDOCLY, ['lint', file, '--format', 'summary'], {
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      });
      const output = `${lint.stdout}\n${lint.stderr}`;
      assert.equal(lint.status, 0, output);
      assert.doesNotMatch(output, /^error /m, output);
    } finally {
      await t.close();
    }
  });
});
