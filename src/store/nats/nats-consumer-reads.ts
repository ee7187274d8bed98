/**
 * What a consumer on NATS reads of its stream (nats-consumer-store.ts): the events after a
 * position or of a claim's range, where a start position is, and how far behind it is.
 */
import type { StoredEvent } from '../../kernel/envelope.js';
import type { ConsumerDefinition, ConsumerLag, StartPosition } from '../port.js';
import { committedOf, type Claim, type ClaimRef, type Head } from './nats-consumer-state.js';
import type { NatsEventLog } from './nats-event-log.js';

/** up to `limit` events after `after` that the consumer's type filter lets through */
export async function readAfter(
  events: NatsEventLog,
  stream: string,
  def: ConsumerDefinition,
  after: number,
  limit: number,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  const types = def.types.length > 0 ? def.types : undefined;
  for await (const e of events.read(stream, { afterSeq: after, ...(types ? { types } : {}), limit })) out.push(e);
  return out;
}

/** the events of a claim's range that the consumer's type filter lets through */
export async function readRange(
  events: NatsEventLog,
  stream: string,
  def: ConsumerDefinition,
  ref: ClaimRef,
): Promise<StoredEvent[]> {
  return (await readAfter(events, stream, def, ref.from - 1, ref.to - ref.from + 1)).filter((e) => e.seq <= ref.to);
}

/** the position just before the first event a new or sought consumer is to get */
export async function positionOf(events: NatsEventLog, stream: string, start: StartPosition): Promise<number> {
  switch (start.from) {
    case 'beginning':
      return 0;
    case 'end':
      return (await events.stats(stream)).lastSeq;
    case 'seq':
      return Math.max(0, start.seq - 1);
    case 'time':
      return (await events.seqAtTime(stream, start.timeMs)) - 1;
  }
}

/** the consumer's lag, from its head and its claims (null: named, not written) */
export async function lagOf(
  events: NatsEventLog,
  stream: string,
  head: Head,
  claims: (Claim | null)[],
  nowMs: number,
): Promise<ConsumerLag> {
  const committedSeq = committedOf(head, head.claims, claims);
  const stats = await events.stats(stream);
  let pending = 0;
  let oldestUnackedMs: number | null = null;
  if (head.def.types.length === 0) {
    pending = Math.max(0, stats.lastSeq - Math.max(committedSeq, stats.firstSeq - 1));
    const first = pending > 0 ? await readAfter(events, stream, head.def, committedSeq, 1) : [];
    if (first[0]) oldestUnackedMs = Date.parse(first[0].received);
  } else {
    for await (const e of events.read(stream, {
      afterSeq: committedSeq,
      types: head.def.types,
      limit: Number.MAX_SAFE_INTEGER,
    })) {
      if (pending === 0) oldestUnackedMs = Date.parse(e.received);
      pending++;
    }
  }
  let leased = 0;
  for (const c of claims) leased += (c?.leases ?? []).filter((l) => l.token !== null && l.visibleMs > nowMs).length;
  return { committedSeq, lastSeq: stats.lastSeq, pending, leased, oldestUnackedMs };
}
