/**
 * okdata's sinks on Rivulet sinks: which Rivulet sink stands for which okdata sink, what it
 * carries in its labels, and how its real state reads as okdata's lifecycle status.
 *
 *   okdata_{dataset}_{version}_{type}   the Rivulet sink id; type is s3, elasticsearch, or
 *                                       processing (the raw → processed step)
 * Dataset ids have no `_` and types have none, so the id splits back unambiguously; an id
 * that would pass 100 characters (the sink id limit) uses a hash of `d/v` instead.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '../../kernel/envelope.js';
import type { SinkView } from '../../core/sinks/sink-model.js';
import type { OkdataId } from './okdata-names.js';
import type { OkdataStatus } from './okdata-settings.js';

/** the sink types okdata's API offers */
export const OKDATA_SINK_TYPES = ['s3', 'elasticsearch'] as const;
export type OkdataSinkType = (typeof OKDATA_SINK_TYPES)[number];
/** the Rivulet sinks an okdata stream owns: its API's sinks and its processing step */
export type OkdataSinkRole = OkdataSinkType | 'processing';

export function isOkdataSinkType(type: string): type is OkdataSinkType {
  return (OKDATA_SINK_TYPES as readonly string[]).includes(type);
}

export function okdataSinkId(id: OkdataId, role: OkdataSinkRole): string {
  const plain = `okdata_${id.dataset}_${id.version}_${role}`;
  if (plain.length <= 100) return plain;
  const hash = createHash('sha256').update(`${id.dataset}/${id.version}`).digest('hex').slice(0, 24);
  return `okdata_${hash}_${role}`;
}

/** where the okdata sinks and the processing step put what they could not deliver (okdata's "failed documents") */
export function failedStreamName(id: OkdataId): string {
  return `okdata.${id.dataset}.failed.${id.version}`;
}

/** `labels.okdata` of a Rivulet sink that stands for an okdata sink */
export interface OkdataSinkLabel {
  dataset: string;
  version: string;
  type: OkdataSinkRole;
  updatedBy: string | null;
  updatedAt: string;
  /** set when DELETE began; the sink is hidden from then on and removed */
  deleting?: boolean;
}

export function okdataLabelOf(sink: { labels: JsonObject }): OkdataSinkLabel | null {
  const value = sink.labels.okdata as unknown as OkdataSinkLabel | undefined;
  return value && typeof value === 'object' && typeof value.type === 'string' ? value : null;
}

/**
 * The okdata status of a Rivulet sink, read from its real state:
 * - being deleted → DELETE_IN_PROGRESS
 * - paused (through /v1) → INACTIVE: nothing is delivered
 * - the latest attempt failed → OPERATION_FAILED
 * - held and delivered by a process → ACTIVE
 * - held by no process: CREATE_IN_PROGRESS while it never delivered anything (no process has
 *   picked it up yet), ACTIVE once it has (a process takes it over within the owner lease)
 */
export function okdataSinkStatus(view: SinkView): OkdataStatus {
  if (okdataLabelOf(view)?.deleting === true) return 'DELETE_IN_PROGRESS';
  switch (view.status) {
    case 'paused':
      return 'INACTIVE';
    case 'failing':
      return 'OPERATION_FAILED';
    case 'running':
      return 'ACTIVE';
    // okdata's sinks read streams it made: a missing one is being set up again
    case 'waiting':
    case 'stopped': {
      const s = view.stats;
      const worked = s.delivered + s.failed + s.filtered + s.deadLettered > 0 || s.lastSuccessAt !== null;
      return worked ? 'ACTIVE' : 'CREATE_IN_PROGRESS';
    }
  }
}
