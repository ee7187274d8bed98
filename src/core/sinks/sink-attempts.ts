/**
 * The attempt log of a sink: one record per delivery attempt, kept in the internal stream
 * `_sink.<id>.attempts` with count and size retention, so it is bounded and shared by every
 * process. Each event of the stream packs the records of one flush (`data.records`, oldest
 * first), so the log costs one append per flush rather than one per attempt.
 */
import type { JsonValue } from '../../kernel/envelope.js';
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
export async function readAttempts(
  deps: { events: EventLog },
  sinkId: string,
  query: AttemptQuery,
): Promise<AttemptRecord[]> {
  const name = attemptStreamName(sinkId);
  let stats;
  try {
    stats = await deps.events.stats(name);
  } catch {
    return [];
  }
  const wanted = (r: AttemptRecord) =>
    (query.stream === undefined || r.stream === query.stream) && (query.seq === undefined || r.seq === query.seq);
  const filtered = query.stream !== undefined || query.seq !== undefined;
  const afterSeq = filtered ? stats.firstSeq - 1 : Math.max(stats.firstSeq - 1, stats.lastSeq - query.limit);
  if (stats.lastSeq <= afterSeq) return [];
  const found: AttemptRecord[] = [];
  for await (const event of deps.events.read(name, { afterSeq, limit: stats.lastSeq - afterSeq })) {
    for (const record of recordsOf(event.data)) if (wanted(record)) found.push(record);
  }
  return found.reverse().slice(0, query.limit);
}

/**
 * the records one event of the log carries (a lone record: the form before records were
 * packed). Anything not shaped as a record is skipped: the log is read back as an answer, and
 * one odd event (from an older version, or written before internal streams were closed to the
 * API) must not fail the whole answer.
 */
function recordsOf(data: JsonValue): AttemptRecord[] {
  const records = (data as { records?: unknown } | null)?.records;
  const candidates: unknown[] = Array.isArray(records) ? records : [data];
  return candidates.filter(isAttemptRecord);
}

const STRINGS = ['sink', 'stream', 'eventId', 'deliveryId', 'outcome', 'action', 'at'] as const;
const INTEGERS = ['seq', 'attempt', 'latencyMs'] as const;

function isAttemptRecord(value: unknown): value is AttemptRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return (
    STRINGS.every((f) => typeof r[f] === 'string') &&
    INTEGERS.every((f) => Number.isSafeInteger(r[f])) &&
    (r['status'] === null || Number.isSafeInteger(r['status'])) &&
    (r['error'] === null || typeof r['error'] === 'string')
  );
}
