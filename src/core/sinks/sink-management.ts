/**
 * Sinks another resource manages: a rule runs as two sinks, an okdata stream owns its
 * processing and storage sinks. Changing such a sink through /v1/sinks would leave its owner
 * describing something that no longer exists (a disabled rule whose sink runs), so the
 * native sink API refuses to change them and names the owner to change instead. Reading,
 * replaying and retrying dead letters stay open: they never contradict the owner. An okdata
 * sink may also be paused, resumed and moved by an operator (okdata shows a paused sink as
 * INACTIVE); a rule's sinks may not, since the rule's enabled switch is their state.
 */
import { RivuletError } from '../../kernel/errors.js';
import type { SinkRecord } from './sink-model.js';

/** target kinds only a rule creates: the native API refuses them */
export const RULE_TARGET_KINDS: readonly string[] = ['rule', 'rule-action'];

/** who manages the sink, in words for an error message; null when nobody does */
export function sinkManagedBy(
  sink: Pick<SinkRecord, 'labels'>,
): { owner: string; via: string; operable: boolean } | null {
  const { rule, okdata } = sink.labels as { rule?: unknown; okdata?: unknown };
  if (typeof rule === 'string')
    return { owner: `rule "${rule}"`, via: `/v1/rules/${encodeURIComponent(rule)}`, operable: false };
  if (okdata && typeof okdata === 'object' && !Array.isArray(okdata)) {
    const { dataset, version } = okdata as { dataset?: unknown; version?: unknown };
    return {
      owner: `okdata stream ${String(dataset)}/${String(version)}`,
      via: `/streams/${String(dataset)}/${String(version)}`,
      operable: true,
    };
  }
  return null;
}

/**
 * RESOURCE_IN_USE when another resource manages the sink; `operation` marks pause, resume
 * and seek, which an okdata sink allows.
 */
export function assertSinkUnmanaged(sink: Pick<SinkRecord, 'id' | 'labels'>, change: string, operation = false): void {
  const managed = sinkManagedBy(sink);
  if (!managed || (operation && managed.operable)) return;
  throw new RivuletError(
    'RESOURCE_IN_USE',
    `sink "${sink.id}" is managed by ${managed.owner}; ${change} it through ${managed.via}`,
    {
      details: { sink: sink.id, managedBy: managed.owner },
    },
  );
}

/** VALIDATION_FAILED for a target kind only rules may create */
export function assertPublicTargetKind(kind: unknown): void {
  if (typeof kind === 'string' && RULE_TARGET_KINDS.includes(kind)) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `target kind "${kind}" belongs to rules; create a rule (/v1/rules) instead`,
      { details: { pointer: '/target/kind' } },
    );
  }
}
