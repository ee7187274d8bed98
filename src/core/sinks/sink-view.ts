/** A sink as the API shows it: secrets redacted, status, stats summed across processes, lag. */
import { RivuletError } from '../../kernel/errors.js';
import type { ConsumerService } from '../consumers/consumer-service.js';
import type { Clock } from '../../kernel/clock.js';
import type { DocumentStore, StoredDocument } from '../../store/port.js';
import {
  EMPTY_STATS,
  OWNERS_COLLECTION,
  STATS_COLLECTION,
  sinkConsumerName,
  type OwnerLease,
  type SinkChecks,
  type SinkRecord,
  type SinkStats,
  type SinkStatus,
  type SinkView,
  type StreamLag,
} from './sink-model.js';

export interface SinkViewDeps {
  documents: DocumentStore;
  consumers: ConsumerService;
  clock: Clock;
  checks: SinkChecks;
}

export async function describeSink(deps: SinkViewDeps, doc: StoredDocument<SinkRecord>): Promise<SinkView> {
  const sink = doc.value;
  const [statsDoc, ownerDoc] = await Promise.all([
    deps.documents.get<SinkStats>(STATS_COLLECTION, sink.id),
    deps.documents.get<OwnerLease>(OWNERS_COLLECTION, sink.id),
  ]);
  const stats = { ...EMPTY_STATS, ...(statsDoc?.value ?? {}) };
  const now = deps.clock.now().getTime();
  const holder = ownerDoc !== null && ownerDoc.value.expiresAtMs > now ? ownerDoc.value.holder : null;
  const streams: StreamLag[] = [];
  const waitingFor: string[] = [];
  for (const stream of sink.streams) {
    try {
      const lag = await deps.consumers.lag(stream, sinkConsumerName(sink.id));
      streams.push({
        stream,
        committedSeq: lag.committedSeq,
        lastSeq: lag.lastSeq,
        pending: lag.pending,
        oldestUnackedAgeMs: lag.oldestUnackedAgeMs,
      });
    } catch (err) {
      // the stream does not exist (yet, or any more), or it appeared and the engine has not
      // given the sink its consumer yet: the sink waits for it, and nothing is pending there
      if (err instanceof RivuletError && (err.code === 'STREAM_NOT_FOUND' || err.code === 'CONSUMER_NOT_FOUND'))
        waitingFor.push(stream);
      streams.push({ stream, committedSeq: 0, lastSeq: 0, pending: 0, oldestUnackedAgeMs: null });
    }
  }
  return {
    ...sink,
    target: { ...deps.checks.redact(sink.target.kind, sink.target), kind: sink.target.kind },
    version: doc.version,
    status: statusOf(sink, stats, holder, waitingFor),
    stats,
    lag: { pending: streams.reduce((n, s) => n + s.pending, 0), streams },
    deliveredBy: holder,
    waitingFor,
  };
}

export function statusOf(
  sink: Pick<SinkRecord, 'state'>,
  stats: SinkStats,
  holder: string | null,
  waitingFor: readonly string[] = [],
): SinkStatus {
  if (sink.state === 'paused') return 'paused';
  if (waitingFor.length > 0) return 'waiting';
  if (holder === null) return 'stopped';
  if (stats.lastErrorAt !== null && (stats.lastSuccessAt === null || stats.lastErrorAt > stats.lastSuccessAt))
    return 'failing';
  return 'running';
}
