/**
 * The attempt log of a sink: one record per delivery attempt, kept in the internal stream
 * `_sink.<id>.attempts` with count and size retention, so it is bounded and shared by every
 * process. Each event of the stream packs the records of one flush (`data.records`, oldest
 * first), so the log costs one append per flush rather than one per attempt.
 */
import type { JsonValue } from '../events/envelope.js';
import type { EventLog } from '../../store/port.js';
import { attemptStreamName, type AttemptRecord } from './sink-model.js';

export interface AttemptQuery {
  /** only attempts of this source stream's event … */
  stream?: string;
  /** … at this seq */
  seq?: number;
  limit: number;
}

/** Newest first. */
export async function readAttempts(deps: { events: EventLog }, sinkId: string, query: AttemptQuery): Promise<AttemptRecord[]> {
  const name = attemptStreamName(sinkId);
  let stats;
  try {
    stats = await deps.events.stats(name);
  } catch {
    return [];
  }
  const wanted = (r: AttemptRecord) => (query.stream === undefined || r.stream === query.stream) && (query.seq === undefined || r.seq === query.seq);
  const filtered = query.stream !== undefined || query.seq !== undefined;
  const afterSeq = filtered ? stats.firstSeq - 1 : Math.max(stats.firstSeq - 1, stats.lastSeq - query.limit);
  if (stats.lastSeq <= afterSeq) return [];
  const found: AttemptRecord[] = [];
  for await (const event of deps.events.read(name, { afterSeq, limit: stats.lastSeq - afterSeq })) {
    for (const record of recordsOf(event.data)) if (wanted(record)) found.push(record);
  }
  return found.reverse().slice(0, query.limit);
}

/** the records one event of the log carries (a lone record: the form before records were packed) */
function recordsOf(data: JsonValue): AttemptRecord[] {
  const records = (data as { records?: unknown } | null)?.records;
  return Array.isArray(records) ? (records as AttemptRecord[]) : [data as unknown as AttemptRecord];
}
