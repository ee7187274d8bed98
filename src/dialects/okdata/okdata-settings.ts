/**
 * okdata's settings of one stream, kept in the processed stream's `options.okdata` (and a
 * pointer back in the raw stream's), plus the tombstone a deleted stream leaves behind.
 */
import type { JsonObject } from '../../kernel/envelope.js';
import type { StreamRecord } from '../../core/ports.js';
import type { SinkFilter } from '../../core/sinks/sink-model.js';
import type { OkdataId } from './okdata-names.js';

/** okdata's lifecycle states (its CloudFormation stack states, as the API showed them) */
export type OkdataStatus = 'CREATE_IN_PROGRESS' | 'ACTIVE' | 'OPERATION_FAILED' | 'DELETE_IN_PROGRESS' | 'INACTIVE';

export type AccessRights = 'public' | 'restricted' | 'non-public';
export const ACCESS_RIGHTS: readonly AccessRights[] = ['public', 'restricted', 'non-public'];
/** okdata's confidentiality names for each access right */
export const CONFIDENTIALITY: Record<AccessRights, string> = {
  public: 'green',
  restricted: 'yellow',
  'non-public': 'red',
};

export interface SubscribableSettings {
  enabled: boolean;
  status: OkdataStatus;
  updatedBy: string | null;
  updatedAt: string;
}

export interface OkdataSettings {
  role: 'processed';
  dataset: string;
  version: string;
  createRaw: boolean;
  status: OkdataStatus;
  /** why the last operation failed, when status is OPERATION_FAILED */
  failure: string | null;
  /** +1 on every change of the stream's configuration, across deletions */
  configVersion: number;
  updatedBy: string | null;
  updatedAt: string;
  accessRights: AccessRights;
  /** the event field history is searched on; it also becomes the event's time */
  timestampField: string;
  subscribable: SubscribableSettings;
  /** the processing step's filter and transform (raw → processed); none: identity */
  processing?: { filter: SinkFilter | null; transform: string | null };
}

export interface RawSettings {
  role: 'raw';
  dataset: string;
  version: string;
  processed: string;
}

/** What a deleted okdata stream leaves in the document store, so it reads as INACTIVE and a re-creation continues its config version. */
export interface OkdataTombstone {
  dataset: string;
  version: string;
  createRaw: boolean;
  configVersion: number;
  updatedBy: string | null;
  updatedAt: string;
  accessRights: AccessRights;
}

export const TOMBSTONES = 'okdata-tombstones';

export function tombstoneKey(id: OkdataId): string {
  return `${id.dataset}/${id.version}`;
}

export function okdataOf(record: StreamRecord): OkdataSettings | null {
  const value = record.options.okdata as unknown as OkdataSettings | undefined;
  return value && typeof value === 'object' && value.role === 'processed' ? value : null;
}

export function rawOf(record: StreamRecord): RawSettings | null {
  const value = record.options.okdata as unknown as RawSettings | undefined;
  return value && typeof value === 'object' && value.role === 'raw' ? value : null;
}

export function withOkdata(record: StreamRecord, settings: OkdataSettings): JsonObject {
  return { ...record.options, okdata: settings as unknown as JsonObject };
}
