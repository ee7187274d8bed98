/**
 * How a consumer's state is laid out in the `<ns>_consumers` bucket (see docs/store-nats.md):
 *
 * - the head, key `<stream>.<consumer>`: the definition, how far the leased style has handed
 *   events out (`scannedSeq`), and a reference to every live claim;
 * - a claim, key `<stream>.<consumer>.<claim>`: the leases of the events one receive handed
 *   out fresh. Its acks, nacks, releases, extensions and redeliveries change that key only,
 *   so clients of one consumer on several processes settle their own claims side by side
 *   instead of queueing on one entry.
 *
 * An earlier layout kept every lease in the head (`leases`). A head read with leases there —
 * written by an earlier version, or by a process of one still running during an upgrade — has
 * them moved into a claim of their own; their tokens stay valid.
 */
import { randomBytes } from 'node:crypto';
import type { StoredEvent } from '../../kernel/envelope.js';
import type { ConsumerDefinition, ConsumerRecord, Delivery, ReceiveResult } from '../port.js';
import { token } from './nats-names.js';

export interface Lease {
  seq: number;
  deliveries: number;
  /** the lease (or the event's return to the queue) ends at this time */
  visibleMs: number;
  /** null once given back (nack, release) or never handed out since */
  token: string | null;
  /** when it was first handed out (absent on leases written before this was kept) */
  firstMs?: number;
}

/** the head's reference to a claim */
export interface ClaimRef {
  claim: string;
  /** the seqs the claim covers (its events that match the consumer's types) */
  from: number;
  to: number;
  /** no lease of the claim is due before this: a lower bound, so a receive skips the claim until then */
  dueMs: number;
}

export interface Claim {
  claim: string;
  leases: Lease[];
}

export interface Head {
  layout: 2;
  def: ConsumerDefinition;
  scannedSeq: number;
  createdAt: string;
  updatedAt: string;
  /** ordered by `from`; claims never overlap */
  claims: ClaimRef[];
  /**
   * Always empty when written by this layout; kept, with `committedSeq`, so a process of the
   * earlier version still reading this entry sees a consumer it understands. Leases it adds
   * here are moved into a claim by the next process of this version that reads the head.
   */
  leases: Lease[];
  committedSeq: number;
}

/** the head as an earlier version wrote it (or as one still writes it) */
export interface StoredHead {
  layout?: number;
  def: ConsumerDefinition;
  scannedSeq: number;
  committedSeq: number;
  createdAt: string;
  updatedAt: string;
  leases?: Lease[];
  claims?: ClaimRef[];
}

export function headKey(stream: string, name: string): string {
  return `${token(stream)}.${token(name)}`;
}

export function claimKey(stream: string, name: string, claim: string): string {
  return `${headKey(stream, name)}.${claim}`;
}

export function newClaimId(): string {
  return randomBytes(9).toString('base64url');
}

export function newHead(def: ConsumerDefinition, position: number, now: string): Head {
  return {
    layout: 2,
    def,
    scannedSeq: position,
    createdAt: now,
    updatedAt: now,
    claims: [],
    leases: [],
    committedSeq: position,
  };
}

/** true when the head needs no upgrade: this layout, and no lease left in it */
export function isCurrent(h: StoredHead): h is Head {
  return h.layout === 2 && Array.isArray(h.claims) && (h.leases?.length ?? 0) === 0;
}

/**
 * The upgraded head and the claim holding the leases the head kept (null when it kept none).
 * Pure: the caller creates the claim, then writes the head at the revision it read.
 */
export function upgrade(h: StoredHead): { head: Head; claim: Claim | null } {
  const leases = h.leases ?? [];
  const head: Head = {
    layout: 2,
    def: h.def,
    scannedSeq: h.scannedSeq,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    claims: [...(h.claims ?? [])],
    leases: [],
    committedSeq: h.committedSeq,
  };
  if (leases.length === 0) return { head, claim: null };
  const claim: Claim = { claim: newClaimId(), leases: [...leases].sort((a, b) => a.seq - b.seq) };
  head.claims.push({
    claim: claim.claim,
    from: claim.leases[0]!.seq,
    to: claim.leases.at(-1)!.seq,
    dueMs: Math.min(...leases.map((l) => l.visibleMs)),
  });
  head.claims.sort((a, b) => a.from - b.from);
  return { head, claim };
}

/**
 * `<seq>.<claim>.<random>`: the claim finds the key, the seq the lease, and the random part
 * proves it is this delivery's. Tokens of the earlier layout (`<seq>.<random>`) name no claim:
 * the claim covering the seq is looked up in the head.
 */
export function newToken(seq: number, claim: string): string {
  return `${seq}.${claim}.${randomBytes(12).toString('base64url')}`;
}

export function parseToken(t: string): { seq: number; claim: string | null } | null {
  const parts = t.split('.');
  if (parts.length !== 2 && parts.length !== 3) return null;
  const seq = Number(parts[0]);
  if (!Number.isSafeInteger(seq) || seq <= 0 || parts.some((p) => p.length === 0)) return null;
  if (parts.length === 2) return { seq, claim: null };
  return /^[A-Za-z0-9_-]+$/.test(parts[1]!) ? { seq, claim: parts[1]! } : null;
}

/**
 * The committed position: just before the oldest event still leased or due, else all that
 * was scanned. A claim the head names but whose entry is missing (`null`: not written yet,
 * or its receive's process died first) holds its whole range.
 */
export function committedOf(head: Head, refs: ClaimRef[], claims: (Claim | null)[]): number {
  let oldest = Number.POSITIVE_INFINITY;
  claims.forEach((c, i) => {
    if (c === null) oldest = Math.min(oldest, refs[i]!.from);
    else for (const l of c.leases) oldest = Math.min(oldest, l.seq);
  });
  return oldest === Number.POSITIVE_INFINITY ? head.scannedSeq : oldest - 1;
}

export function toRecord(head: Head, committedSeq: number): ConsumerRecord {
  return { ...head.def, committedSeq, createdAt: head.createdAt, updatedAt: head.updatedAt };
}

/** when the first lease of these is due (never, when there is none) */
export function nextDue(leases: Lease[]): number {
  return leases.reduce((min, l) => Math.min(min, l.visibleMs), Number.POSITIVE_INFINITY);
}

/**
 * The claims with the due times just learnt from them. A claim left with no lease (due never)
 * stays due from `nowMs`: it is being retired, and should that not happen (the process stops
 * first) the next receive finds it and retires it, rather than the head naming it for ever.
 */
export function applyDueTimes(claims: ClaimRef[], dueTimes: Map<string, number>, nowMs: number): ClaimRef[] {
  if (dueTimes.size === 0) return claims;
  return claims.map((r) => {
    const due = dueTimes.get(r.claim);
    return due === undefined ? r : { ...r, dueMs: Number.isFinite(due) ? due : nowMs };
  });
}

export interface HandedOut {
  deliveries: Delivery[];
  exhausted: ReceiveResult['exhausted'];
  /** when the claim's first lease is due now */
  nextDueMs: number;
  /** no lease left: the claim is to be retired */
  empty: boolean;
}

/** the claim's leases due by `nowMs`, oldest first, at most `room` */
export function dueLeases(c: Claim, room: number, nowMs: number): Lease[] {
  return c.leases
    .filter((l) => l.visibleMs <= nowMs)
    .sort((a, b) => a.seq - b.seq)
    .slice(0, room);
}

/**
 * Hands `due` (leases of `c`) out again with new tokens, changing `c` in place: to the
 * dead-letter path (`exhausted`) once a lease has had `maxDeliveries`; a lease whose event
 * `bySeq` lacks (removed by retention while unacknowledged) is dropped.
 */
export function handOut(
  c: Claim,
  def: ConsumerDefinition,
  due: Lease[],
  bySeq: Map<number, StoredEvent>,
  nowMs: number,
  until: number,
): HandedOut {
  const deliveries: Delivery[] = [];
  const exhausted: ReceiveResult['exhausted'] = [];
  const gone = new Set<number>();
  for (const lease of due) {
    const event = bySeq.get(lease.seq);
    if (!event) {
      gone.add(lease.seq);
      continue;
    }
    const leaseToken = newToken(lease.seq, c.claim);
    const reason = lease.token === null ? 'nacked' : 'lease-expired';
    const firstDeliveredMs = (lease.firstMs ??= nowMs);
    if (lease.deliveries >= def.maxDeliveries) {
      exhausted.push({
        event,
        deliveries: lease.deliveries,
        firstDeliveredMs,
        leaseToken,
        leaseExpiresMs: until,
        reason,
      });
    } else {
      lease.deliveries++;
      deliveries.push({ event, deliveries: lease.deliveries, firstDeliveredMs, leaseToken, leaseExpiresMs: until });
    }
    lease.visibleMs = until;
    lease.token = leaseToken;
  }
  if (gone.size > 0) c.leases = c.leases.filter((l) => !gone.has(l.seq));
  return { deliveries, exhausted, nextDueMs: nextDue(c.leases), empty: c.leases.length === 0 };
}
