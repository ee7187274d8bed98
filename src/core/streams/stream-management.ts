/**
 * Streams another resource manages: okdata's raw and processed streams (their settings live in
 * `options.okdata`), and the internal streams of sinks and rules (`_sink.<id>.…`,
 * `_rule.<id>.…`). Changing one through /v1/streams or a spec would leave its owner describing
 * something that no longer exists (okdata's stream gone from `GET /{dataset}/{version}`), so
 * those refuse it and name the owner to change instead, as managed sinks do
 * (sink-management.ts). The managing resource changes them with `StreamService.update`.
 *
 * Some settings are managed while the rest of the stream is the user's: a stream made through
 * the Durable Streams mount keeps its protocol state (content type, TTL and expiry, closed,
 * fork origin, producer state) in `options.durableStreams`. Its description, retention and
 * other options change as on any stream; that one key is set and changed only by the mount
 * (`StreamService.createManaged` and `update`), since a forged one would close a stream, rewind
 * a producer, or point a fork at a stream its reader may not read.
 */
import { isDeepStrictEqual } from 'node:util';
import { RivuletError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/envelope.js';
import type { StreamRecord } from '../../store/port.js';

/** option keys a dialect keeps for itself: who keeps them, in words for an error message, and where they change */
const MANAGED_OPTIONS: Readonly<Record<string, { owner: string; via: string }>> = {
  durableStreams: {
    owner: 'the Durable Streams protocol',
    via: "the /ds mount (PUT, POST and DELETE on the stream's path)",
  },
};

/** who manages the stream, in words for an error message; null when nobody does */
export function streamManagedBy(record: Pick<StreamRecord, 'name' | 'options'>): { owner: string; via: string } | null {
  const okdata = record.options['okdata'];
  if (okdata && typeof okdata === 'object' && !Array.isArray(okdata)) {
    const { dataset, version } = okdata as { dataset?: unknown; version?: unknown };
    return {
      owner: `okdata stream ${String(dataset)}/${String(version)}`,
      via: `/${String(dataset)}/${String(version)}`,
    };
  }
  const internal = /^_(sink|rule)\.([^.]+)\./.exec(record.name);
  if (internal) {
    const [, kind, id] = internal;
    return { owner: `${kind} "${id!}"`, via: `/v1/${kind!}s/${id!}` };
  }
  return null;
}

/** RESOURCE_IN_USE when another resource manages the stream; `change` says what was refused */
export function assertStreamUnmanaged(
  record: Pick<StreamRecord, 'name' | 'options'>,
  change: string,
  pointer?: string,
): void {
  const managed = streamManagedBy(record);
  if (!managed) return;
  throw new RivuletError(
    'RESOURCE_IN_USE',
    `stream "${record.name}" is managed by ${managed.owner}; ${change} it through ${managed.via}`,
    {
      details: { stream: record.name, managedBy: managed.owner, ...(pointer === undefined ? {} : { pointer }) },
    },
  );
}

/** true when the stream carries settings a dialect keeps */
export function hasManagedOptions(record: Pick<StreamRecord, 'options'>): boolean {
  for (const key of Object.keys(MANAGED_OPTIONS)) if (record.options[key] !== undefined) return true;
  return false;
}

/**
 * The options a user's create or change may write. Refused (RESOURCE_IN_USE) when `requested`
 * sets a managed key the stream has not got, or gives one it has another value; otherwise
 * `requested` with the stream's managed keys carried over, so replacing `options` never drops
 * them. `record` is null for a stream being created.
 */
export function withManagedOptions(
  record: Pick<StreamRecord, 'name' | 'options'> | null,
  requested: JsonObject,
  name = record?.name ?? '',
): JsonObject {
  let out: JsonObject | undefined;
  for (const [key, managed] of Object.entries(MANAGED_OPTIONS)) {
    const current = record?.options[key];
    const asked = requested[key];
    if (asked !== undefined && (current === undefined || !isDeepStrictEqual(asked, current))) {
      const what = current === undefined ? 'set' : 'changed';
      throw new RivuletError(
        'RESOURCE_IN_USE',
        `options.${key} of stream "${name}" is kept by ${managed.owner}: it cannot be ${what} here; use ${managed.via}`,
        {
          details: { stream: name, managedBy: managed.owner, pointer: `/options/${key}` },
        },
      );
    }
    if (current !== undefined && asked === undefined) (out ??= { ...requested })[key] = current;
  }
  return out ?? requested;
}
