import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { RequestMetrics } from '../../src/observability/request-metrics.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const names = { count: 'http_requests_total', duration: 'http_request_duration_seconds' };
const help = { count: 'requests', duration: 'time' };

// the same observations, on bounds and between them, over three label sets
const observations: [string, string, number, number][] = [
  ['POST', '/v1/streams/:name/events', 201, 0.0004],
  ['POST', '/v1/streams/:name/events', 201, 0.001],
  ['POST', '/v1/streams/:name/events', 201, 0.05],
  ['POST', '/v1/streams/:name/events', 404, 3],
  ['GET', '/metrics', 200, 0.01],
  ['POST', '/v1/streams/:name/events', 201, 1],
];

describe('request metrics', () => {
  it('expose exactly what prom-client’s Counter and Histogram expose for the same requests', async () => {
    const ours = new Registry();
    const metrics = new RequestMetrics(ours, names, help, BOUNDS);
    const theirs = new Registry();
    const labelNames = ['method', 'route', 'status'] as const;
    const counter = new Counter({ name: names.count, help: help.count, labelNames, registers: [theirs] });
    const histogram = new Histogram({
      name: names.duration,
      help: help.duration,
      labelNames,
      buckets: BOUNDS,
      registers: [theirs],
    });
    for (const [method, route, status, seconds] of observations) {
      metrics.record(method, route, status, seconds);
      counter.inc({ method, route, status: String(status) });
      histogram.observe({ method, route, status: String(status) }, seconds);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    // the JSON form too (values only: prom-client adds exemplar fields this never has)
    const values = async (r: Registry) =>
      (await r.getMetricsAsJSON()).map((m) =>
        m.values.map((v) => ({ labels: v.labels, value: v.value, name: (v as { metricName?: string }).metricName })),
      );
    assert.deepEqual(await values(ours), await values(theirs));
  });

  it('start from nothing after a registry reset', async () => {
    const registry = new Registry();
    const metrics = new RequestMetrics(registry, names, help, BOUNDS);
    metrics.record('GET', '/metrics', 200, 0.002);
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /route=/);
    metrics.record('GET', '/metrics', 200, 0.002);
    assert.match(await registry.metrics(), /http_requests_total\{method="GET",route="\/metrics",status="200"\} 1/);
  });
});
