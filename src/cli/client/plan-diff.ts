/**
 * A spec plan as a readable diff: `+` create, `~` update, `-` delete, one line per changed
 * field beneath. Values are shown as compact JSON, long ones cut.
 */
export interface PlanChange {
  action: 'create' | 'update' | 'delete';
  kind: string;
  key: string;
  ref: string;
  changes: { path: string; from?: unknown; to?: unknown }[];
}

export interface PlanAnswer {
  dataset: string;
  prune: boolean;
  changes: PlanChange[];
  unchanged: string[];
  orphans: string[];
  summary: { create: number; update: number; delete: number; unchanged: number };
}

const SIGN = { create: '+', update: '~', delete: '-' } as const;

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

function field(path: string): string {
  return path === '' ? '(whole)' : path.slice(1).replace(/\//g, '.');
}

export function renderPlan(plan: PlanAnswer): string {
  const lines = [`Plan for ${plan.dataset}${plan.prune ? ' (with prune)' : ''}:`];
  if (plan.changes.length === 0) lines.push('  no changes: everything is as the spec declares');
  for (const c of plan.changes) {
    lines.push(`${SIGN[c.action]} ${c.ref}`);
    for (const ch of c.changes) {
      if (c.action === 'delete') continue;
      if (c.action === 'create') lines.push(`    ${field(ch.path)}: ${show(ch.to)}`);
      else if (!('from' in ch)) lines.push(`    ${field(ch.path)}: (unset) → ${show(ch.to)}`);
      else lines.push(`    ${field(ch.path)}: ${show(ch.from)} → ${show(ch.to)}`);
    }
  }
  for (const ref of plan.orphans) lines.push(`  ${ref}: no longer in the spec; kept (apply with --prune to delete it)`);
  const s = plan.summary;
  lines.push(`Plan: ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged.`);
  return `${lines.join('\n')}\n`;
}
