/**
 * The planner: what it takes to make the world match a spec. It reads each declared resource,
 * asks its kind for the diff, and orders the changes by dependency: a change waits for the
 * changes of what it depends on; a deletion waits for the deletions of what depends on it.
 * Resources the dataset manages but the spec no longer declares are deleted only with
 * `prune`; without it they are kept and reported as orphans. Planning changes nothing.
 */
import type { JsonObject } from '../../kernel/envelope.js';
import type { KindContext, SpecResourceKind } from './resource-kind.js';
import type { FieldChange } from './revision-model.js';
import { refText } from './resource-kind.js';
import type { ParsedSpec } from './spec-model.js';

export interface PlannedChange {
  kind: SpecResourceKind;
  key: string;
  ref: string;
  action: 'create' | 'update' | 'delete';
  changes: FieldChange[];
  desired: JsonObject | null;
  /** the resource as read when planning */
  current: unknown;
  /** refs of planned changes that must succeed first */
  after: string[];
}

export interface Plan {
  changes: PlannedChange[];
  unchanged: string[];
  orphans: string[];
}

export async function planSpec(
  spec: ParsedSpec,
  managed: readonly string[],
  options: { prune: boolean; kinds: readonly SpecResourceKind[]; ctx: KindContext },
): Promise<Plan> {
  const changes: PlannedChange[] = [];
  const unchanged: string[] = [];
  const orphans: string[] = [];
  const declared = new Set<string>();
  for (const r of spec.resources) {
    const ref = `${r.kind.section}/${r.key}`;
    declared.add(ref);
    const desired = r.kind.prepare ? await r.kind.prepare(r.desired, r.pointer, options.ctx) : r.desired;
    const current = await r.kind.read(r.key, options.ctx);
    const diff = r.kind.diff(desired, current);
    if (diff.action === 'unchanged' || diff.action === 'delete') unchanged.push(ref);
    else
      changes.push({
        kind: r.kind,
        key: r.key,
        ref,
        action: diff.action,
        changes: diff.changes,
        desired,
        current,
        after: [],
      });
  }
  // deletions in reverse section order, so what depends on something goes first
  const bySection = new Map(options.kinds.map((k) => [k.section, k]));
  const removed = managed.filter((ref) => !declared.has(ref));
  for (const kind of [...options.kinds].reverse()) {
    for (const ref of removed.filter((r) => r.startsWith(`${kind.section}/`))) {
      if (!options.prune) {
        orphans.push(ref);
        continue;
      }
      const key = ref.slice(kind.section.length + 1);
      const current = await kind.read(key, options.ctx);
      const diff = kind.diff(null, current);
      if (diff.action === 'delete')
        changes.push({ kind, key, ref, action: 'delete', changes: diff.changes, desired: null, current, after: [] });
    }
  }
  for (const ref of removed) if (!bySection.has(ref.slice(0, ref.indexOf('/')))) orphans.push(ref);
  const planned = new Map(changes.map((c) => [c.ref, c]));
  for (const change of changes) {
    const needs = change.kind.dependencies(change.key, change.desired, change.current).map(refText);
    if (change.action !== 'delete') {
      change.after = needs.filter(
        (ref) => planned.get(ref)?.action === 'create' || planned.get(ref)?.action === 'update',
      );
    } else {
      for (const ref of needs) {
        const target = planned.get(ref);
        if (target?.action === 'delete') target.after.push(change.ref);
      }
    }
  }
  return { changes, unchanged, orphans };
}

/** `Creating stream orders` */
export function titleOf(change: Pick<PlannedChange, 'action' | 'kind' | 'key'>): string {
  const verb = { create: 'Creating', update: 'Updating', delete: 'Deleting' }[change.action];
  return `${verb} ${change.kind.noun} ${change.key}`;
}
