/** Turns a plan and a spec's external pipelines into a revision's pipeline records. */
import type { PipelineRecord } from './revision-model.js';
import { titleOf, type Plan } from './planner.js';
import type { ExternalPipeline } from './spec-model.js';

export function buildPipelines(
  revisionId: string,
  plan: Plan,
  external: readonly ExternalPipeline[],
): PipelineRecord[] {
  const idOf = (ref: string) => `${revisionId}/${ref}`;
  const planned = new Set(plan.changes.map((c) => c.ref));
  const fresh = (
    p: Pick<PipelineRecord, 'id' | 'title' | 'runner' | 'kind' | 'key' | 'action' | 'changes' | 'dependencies'>,
  ): PipelineRecord => ({
    ...p,
    status: 'QUEUED',
    stats: null,
    errors: [],
    log: [],
    startedAt: null,
    finishedAt: null,
  });
  const out = plan.changes.map((c) =>
    fresh({
      id: idOf(c.ref),
      title: titleOf(c),
      runner: 'rivulet',
      kind: c.kind.section,
      key: c.key,
      action: c.action,
      changes: c.changes,
      dependencies: c.after.map(idOf),
    }),
  );
  const externalRefs = new Set(external.map((e) => `${e.section}/${e.id}`));
  for (const e of external) {
    const deps = e.dependencies
      .map((d) => `${d.kind}/${d.key}`)
      // a resource the revision leaves unchanged is already in place: nothing to wait for
      .filter((ref) => externalRefs.has(ref) || planned.has(ref));
    out.push(
      fresh({
        id: idOf(`${e.section}/${e.id}`),
        title: e.title,
        runner: 'external',
        kind: null,
        key: null,
        action: null,
        changes: [],
        dependencies: deps.map(idOf),
      }),
    );
  }
  return out;
}
