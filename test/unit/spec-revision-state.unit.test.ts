/** A revision's derived state, and the failure of pipelines that depend on a failed one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  failWithDependents,
  revisionState,
  stateOf,
  type PipelineRecord,
  type PipelineStatus,
} from '../../src/core/specs/revision-model.js';

function p(id: string, status: PipelineStatus, dependencies: string[] = []): PipelineRecord {
  return {
    id,
    title: id,
    runner: 'rivulet',
    kind: null,
    key: null,
    action: null,
    changes: [],
    dependencies,
    status,
    stats: null,
    errors: [],
    log: [],
    startedAt: null,
    finishedAt: null,
  };
}

describe('revision state', () => {
  it('follows the reference: running, mixed, all pending, failed, succeeded', () => {
    const cases: [PipelineStatus[], string][] = [
      [['INPROGRESS', 'FAILED'], 'INPROGRESS'],
      [['QUEUED', 'SUCCEEDED'], 'INPROGRESS'],
      [['QUEUED', 'FAILED'], 'INPROGRESS'],
      [['QUEUED', 'QUEUED'], 'QUEUED'],
      [['SUCCEEDED', 'FAILED'], 'FAILED'],
      [['SUCCEEDED', 'SUCCEEDED'], 'SUCCEEDED'],
      [[], 'SUCCEEDED'],
    ];
    for (const [statuses, want] of cases)
      assert.equal(revisionState(statuses.map((s, i) => p(String(i), s))), want, statuses.join(','));
    assert.equal(stateOf({ pipelines: [], startedAt: null }), 'QUEUED');
    assert.equal(stateOf({ pipelines: [], startedAt: '2024-01-01T00:00:00Z' }), 'SUCCEEDED');
  });

  it('a failure fails queued dependents transitively, and leaves the independent and the finished alone', () => {
    const ps = [
      p('a', 'INPROGRESS'),
      p('b', 'QUEUED', ['a']),
      p('c', 'QUEUED', ['b']),
      p('d', 'QUEUED'),
      p('e', 'SUCCEEDED', ['a']),
    ];
    assert.deepEqual(failWithDependents(ps, 'a', ['boom'], 'now'), ['b', 'c']);
    assert.deepEqual(
      ps.map((x) => x.status),
      ['FAILED', 'FAILED', 'FAILED', 'QUEUED', 'SUCCEEDED'],
    );
    assert.deepEqual(ps[0]!.errors, ['boom']);
    assert.deepEqual(ps[2]!.errors, [
      'Dependency unsuccessful. Cannot run until dependency "b" is successfully executed',
    ]);
    assert.equal(revisionState(ps), 'INPROGRESS');
  });
});
