/**
 * Streams another resource manages: okdata's raw and processed streams (their settings live in
 * `options.okdata`), and the internal streams of sinks and rules (`_sink.<id>.…`,
 * `_rule.<id>.…`). Changing one through /v1/streams or a spec would leave its owner describing
 * something that no longer exists (okdata's stream gone from `GET /{dataset}/{version}`), so
 * those refuse it and name the owner to change instead, as managed sinks do
 * (sink-management.ts). The managing resource changes them with `StreamService.update`.
 */
import { RivuletError } from '../errors.js';
import type { StreamRecord } from '../../store/port.js';

/** who manages the stream, in words for an error message; null when nobody does */
export function streamManagedBy(record: Pick<StreamRecord, 'name' | 'options'>): { owner: string; via: string } | null {
  const okdata = record.options['okdata'];
  if (okdata && typeof okdata === 'object' && !Array.isArray(okdata)) {
    const { dataset, version } = okdata as { dataset?: unknown; version?: unknown };
    return { owner: `okdata stream ${String(dataset)}/${String(version)}`, via: `/${String(dataset)}/${String(version)}` };
  }
  const internal = /^_(sink|rule)\.([^.]+)\./.exec(record.name);
  if (internal) {
    const [, kind, id] = internal;
    return { owner: `${kind} "${id!}"`, via: `/v1/${kind!}s/${id!}` };
  }
  return null;
}

/** RESOURCE_IN_USE when another resource manages the stream; `change` says what was refused */
export function assertStreamUnmanaged(record: Pick<StreamRecord, 'name' | 'options'>, change: string, pointer?: string): void {
  const managed = streamManagedBy(record);
  if (!managed) return;
  throw new RivuletError('RESOURCE_IN_USE', `stream "${record.name}" is managed by ${managed.owner}; ${change} it through ${managed.via}`, {
    details: { stream: record.name, managedBy: managed.owner, ...(pointer === undefined ? {} : { pointer }) },
  });
}
