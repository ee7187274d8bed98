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

/** a consumer's head changes waiting for this process's next write of it */
export interface HeadChanges {
  stream: string;
  name: string;
  /** receives waiting for a claim of their own */
  wishes: ClaimWish[];
  /** claims left with no lease, and the last seq each covers (when known) */
  retired: Map<string, number | undefined>;
}

export interface ClaimWish {
  room: number;
  until: number;
  nowMs: number;
  resolve: (share: RoundShare | Promise<RoundShare>) => void;
  reject: (err: unknown) => void;
}

/**
 * What a receive gets of a round's claim: its deliveries, or the claim's range when another
 * claim had its start (`lost`), or null when there is nothing after the frontier
 */
export type RoundShare = { deliveries: Delivery[] } | { lost: ClaimRef } | null;

export interface Claim {
  claim: string;
  /** the seqs the claim covers (absent on claims written before they were kept) */
  from?: number;
  to?: number;
  /** empty once every event is acked: the claim is then retired, its entry left as it is */
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
  /** counts the rewinds (`seek`, `commit` back): part of every claim's name (absent: 0) */
  epoch?: number;
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
  epoch?: number;
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

/**
 * The name of the claim that starts at `from`: the same for every receive that starts there
 * (within one epoch), so of two receives handed one range by heads that raced, only one can
 * write the claim (see `claimFirst` in nats-consumer-store.ts).
 */
export function claimAt(head: { epoch?: number }, from: number): string {
  return `${head.epoch ?? 0}-${from}`;
}

/** the epoch a claim named by `claimAt` was made in; null for other names (random, upgraded) */
export function epochOf(claim: string): number | null {
  const m = /^(\d+)-\d+$/.exec(claim);
  return m ? Number(m[1]) : null;
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
    ...(h.epoch ? { epoch: h.epoch } : {}),
  };
  if (leases.length === 0) return { head, claim: null };
  const sorted = [...leases].sort((a, b) => a.seq - b.seq);
  const claim: Claim = { claim: newClaimId(), from: sorted[0]!.seq, to: sorted.at(-1)!.seq, leases: sorted };
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

/** the committed position an earlier version reads from the head: before the first claim */
export function recountCommitted(h: Head): void {
  h.committedSeq = h.claims[0] ? h.claims[0].from - 1 : h.scannedSeq;
}

/** drops the claims from the head; false when it names none of them */
export function dropClaims(h: Head, claims: Set<string>): boolean {
  if (!h.claims.some((r) => claims.has(r.claim))) return false;
  h.claims = h.claims.filter((r) => !claims.has(r.claim));
  recountCommitted(h);
  return true;
}

/**
 * The head put right once a receive found the claim of its range `ref` written already (as
 * `c`): the frontier past the claim and past `rest` (the rest of the receive's range), the
 * claim named with its own range — named again should a head write that lost a race have
 * dropped it while it holds leases — and `rest` named. False when nothing changes, or the claim
 * is of an earlier epoch (a rewind dropped it).
 */
export function adoptInto(h: Head, ref: ClaimRef, c: Claim, rest: ClaimRef | null): boolean {
  if (epochOf(ref.claim) !== (h.epoch ?? 0)) return false;
  const before = JSON.stringify(h);
  const to = c.to ?? ref.to;
  h.scannedSeq = Math.max(h.scannedSeq, rest?.to ?? to);
  const own = h.claims.find((r) => r.claim === ref.claim);
  if (own) own.to = to;
  else if (c.leases.length > 0)
    h.claims.push({ claim: ref.claim, from: c.from ?? ref.from, to, dueMs: nextDue(c.leases) });
  if (rest && !h.claims.some((r) => r.claim === rest.claim)) h.claims.push(rest);
  h.claims.sort((x, y) => x.from - y.from);
  recountCommitted(h);
  return JSON.stringify(h) !== before;
}

/**
 * The frontier, past the claims being retired: their ranges were handed out, and should a head
 * write that raced a receive's have won (see `adopt` in nats-consumer-store.ts), the frontier is
 * put back past them here.
 */
export function frontierPast(h: Head, retired: Map<string, number | undefined>): number {
  let scanned = h.scannedSeq;
  for (const [claim, to] of retired)
    if (to !== undefined && epochOf(claim) === (h.epoch ?? 0)) scanned = Math.max(scanned, to);
  return scanned;
}

/**
 * One claim for the receives waiting in this process's round: the next events after
 * `scanned`, as many as their rooms together (null: none left). One claim per round, so two
 * rounds that raced from one frontier (see `adopt` in nats-consumer-store.ts) start at the same
 * seq and only one can write its claim.
 */
export function assignRange(
  h: Head,
  scanned: number,
  wishes: { room: number; until: number }[],
  bounds: { firstSeq: number; lastSeq: number },
): ClaimRef | null {
  const from = Math.max(scanned + 1, bounds.firstSeq);
  if (wishes.length === 0 || from > bounds.lastSeq) return null;
  const room = wishes.reduce((n, w) => n + w.room, 0);
  return {
    claim: claimAt(h, from),
    from,
    to: Math.min(bounds.lastSeq, from + room - 1),
    dueMs: Math.min(...wishes.map((w) => w.until)),
  };
}
