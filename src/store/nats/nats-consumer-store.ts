/**
 * Consumers on NATS. A consumer is a head entry (definition, scan frontier, live claims) and
 * one entry per claim — the leases of the events one receive handed out fresh
 * (nats-consumer-state.ts). Every change is a compare-and-set on the entry it touches:
 *
 * - a receive that hands out fresh events moves the head's frontier past them, naming a new
 *   claim after the seq it starts at, then writes the claim — only if its key was never
 *   written (see `rebuild`, `adopt`);
 * - acks, nacks, releases and extensions change the claim their token names, so clients on
 *   several processes settle their own claims side by side; the head is written again only
 *   when a claim is fully acked (the head drops it, as the leader has it; its entry is erased
 *   minutes later, see retired-claims.ts) or an event is given back early (its due time moves up);
 * - a receive redelivers from the claims whose due time has come, and rebuilds one the head
 *   names but that was never written (a process stopped between the two writes).
 *
 * Leases hold across processes, and a lease token can be settled through any process. Events
 * are read from the JetStream stream itself.
 *
 * Why not one JetStream durable consumer per Rivulet consumer: the port asks for things a
 * 2.9 consumer cannot answer — a per-receive lease length, `release` that does not count a
 * delivery, `not-held` for a stale token, `peek` without delivering, and several type filters
 * — see docs/store-nats.md.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { RivuletError } from '../../kernel/errors.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import type {
  ConsumerDefinition,
  ConsumerLag,
  ConsumerRecord,
  ConsumerStore,
  Delivery,
  LeaseOutcome,
  ReceiveResult,
  StartPosition,
} from '../port.js';
import type { JsonBucket, Versioned } from './kv-json.js';
import {
  applyDueTimes,
  claimKey,
  committedOf,
  dropClaims,
  dueLeases,
  frontierPast,
  handOut,
  headKey,
  isCurrent,
  adoptInto,
  assignRange,
  claimAt,
  epochOf,
  newHead,
  newToken,
  nextDue,
  parseToken,
  recountCommitted,
  toRecord,
  upgrade,
  type Claim,
  type ClaimRef,
  type HandedOut,
  type Head,
  type HeadChanges,
  type ClaimWish,
  type RoundShare,
  type Lease,
  type StoredHead,
} from './nats-consumer-state.js';
import { fromToken, token, type NatsNames } from './nats-names.js';
import { lagOf, positionOf, readAfter, readRange } from './nats-consumer-reads.js';
import { RetiredClaims } from './retired-claims.js';
import { mapStorageError } from './nats-storage-errors.js';
import type { NatsEventLog } from './nats-event-log.js';
import type { NatsStreamCatalog } from './nats-stream-catalog.js';

type Exhausted = ReceiveResult['exhausted'][number];

export class NatsConsumerStore implements ConsumerStore {
  /** what this process has to write into consumers' heads next, per head key */
  private readonly pending = new Map<string, HeadChanges>();
  /** the heads being written, per head key */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly bucket: JsonBucket,
    private readonly catalog: NatsStreamCatalog,
    private readonly events: NatsEventLog,
    private readonly jsm: JetStreamManager,
    private readonly names: NatsNames,
  ) {
    this.retiredClaims = new RetiredClaims(async ({ stream, name, claim }) => {
      await this.changeHead(stream, name, (h) => dropClaims(h, new Set([claim])));
      await this.bucket.erase(claimKey(stream, name, claim));
    });
  }

  /** the claims this process retired or deleted, erased once no call can act on them any more */
  private readonly retiredClaims: RetiredClaims<{ stream: string; name: string; claim: string }>;

  async create(def: ConsumerDefinition, start: StartPosition, nowMs: number): Promise<ConsumerRecord> {
    await this.requireStream(def.stream);
    const position = await positionOf(this.events, def.stream, start);
    const head = newHead(def, position, new Date(nowMs).toISOString());
    if ((await this.bucket.create(headKey(def.stream, def.name), head)) === null) {
      throw new RivuletError('CONSUMER_EXISTS', `stream "${def.stream}" already has a consumer "${def.name}"`, {
        details: { stream: def.stream, consumer: def.name },
      });
    }
    return toRecord(head, position);
  }

  async get(stream: string, name: string): Promise<ConsumerRecord | null> {
    const found = await this.head(stream, name);
    return found ? toRecord(found.value, await this.committed(stream, name, found.value)) : null;
  }

  async list(stream: string, options: { after?: string; limit: number }): Promise<ConsumerRecord[]> {
    await this.requireStream(stream);
    const after = options.after ?? '';
    // heads only: a claim's key has one more token
    const names = (await this.bucket.keys(`${token(stream)}.*`))
      .map((k) => fromToken(k.slice(k.indexOf('.') + 1)))
      .filter((n) => n > after)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, options.limit);
    const records = await Promise.all(names.map((n) => this.get(stream, n)));
    return records.filter((r): r is ConsumerRecord => r !== null);
  }

  async delete(stream: string, name: string): Promise<boolean> {
    await this.requireStream(stream);
    // at the revision read, so a read after it sees the delete; a receive that moved the head
    // on meanwhile only means reading it again
    for (;;) {
      const found = await this.bucket.get<StoredHead>(headKey(stream, name));
      if (!found) return false;
      if (await this.bucket.delete(headKey(stream, name), found.revision)) break;
    }
    // its claims, any a receive wrote but never got into the head, and the markers of those
    // retired: at once, in one request
    await this.bucket.erase(`${headKey(stream, name)}.*`).catch(() => {});
    return true;
  }

  /** drops every consumer of a deleted stream, claims included */
  async forgetStream(stream: string): Promise<void> {
    await this.bucket.erase(`${token(stream)}.>`);
  }

  async peek(stream: string, name: string, limit: number): Promise<StoredEvent[]> {
    const { value: head } = await this.requireHead(stream, name);
    return readAfter(this.events, stream, head.def, await this.committed(stream, name, head), limit);
  }

  async commit(stream: string, name: string, seq: number, nowMs: number): Promise<ConsumerRecord> {
    for (let attempt = 0; ; attempt++) {
      const found = await this.requireHead(stream, name, attempt > 0);
      const head = found.value;
      const claims = await this.readClaims(stream, name, head.claims);
      if (seq < committedOf(head, head.claims, claims)) {
        // back: every lease goes, delivery starts again after `seq`
        const rewound = await this.rewind(stream, name, found, seq, nowMs);
        if (rewound) return toRecord(rewound, seq);
        continue;
      }
      const next: Head = {
        ...head,
        scannedSeq: Math.max(head.scannedSeq, seq),
        updatedAt: new Date(nowMs).toISOString(),
      };
      if ((await this.bucket.update(headKey(stream, name), next, found.revision)) === null) continue;
      // the leases at or before `seq` are settled by the commit
      await Promise.all(
        next.claims
          .filter((r) => r.from <= seq)
          .map(async (ref) => {
            const left = await this.changeClaim(stream, name, ref.claim, (c) => {
              c.leases = c.leases.filter((l) => l.seq > seq);
              return c.leases.length;
            });
            if (left === 0) await this.retire(stream, name, new Set([ref.claim]));
          }),
      );
      return this.requireRecord(stream, name);
    }
  }

  async receive(
    stream: string,
    name: string,
    options: { max: number; leaseMs: number; clientId: string | null; nowMs: number },
  ): Promise<ReceiveResult> {
    const { nowMs, leaseMs, max } = options;
    const until = nowMs + leaseMs;
    const result: ReceiveResult = { deliveries: [], exhausted: [] };
    const found = await this.requireHead(stream, name);
    const head = found.value;

    // 1. events given back or whose lease ran out, from the claims due by now, oldest first
    const dueTimes = new Map<string, number>();
    for (const ref of head.claims) {
      const room = max - result.deliveries.length - result.exhausted.length;
      if (room <= 0) break;
      if (ref.dueMs > nowMs) continue;
      const taken = await this.takeDue(stream, name, head.def, ref.claim, room, nowMs, until);
      result.deliveries.push(...taken.deliveries);
      result.exhausted.push(...taken.exhausted);
      dueTimes.set(ref.claim, taken.nextDueMs);
    }
    if (dueTimes.size > 0) {
      // what the claims' due times are now, at the revision they were learnt against (a nack
      // since may have moved one up, and must not be undone): a hint, so a lost race is fine
      await this.bucket.update(
        headKey(stream, name),
        { ...head, claims: applyDueTimes(head.claims, dueTimes, nowMs) },
        found.revision,
      );
    }

    // 2. fresh events after the frontier, in a claim of this process's round (unfiltered) or
    // of this receive's own (a type filter)
    for (let attempt = 0; ; attempt++) {
      const room = max - result.deliveries.length - result.exhausted.length;
      if (room <= 0 || attempt > 3) break;
      const share =
        head.def.types.length === 0
          ? await this.claimRange(stream, name, room, until, nowMs)
          : await this.claimOwn(stream, name, room, until, nowMs);
      if (!share) break;
      if ('deliveries' in share) {
        result.deliveries.push(...share.deliveries);
        if (share.deliveries.length > 0) break;
        continue;
      }
      // the range's claim was there already (see `adopt`): the rest of the range, if any, is
      // a claim to rebuild, due now
      const rest = await this.adopt(stream, name, share.lost, nowMs);
      if (rest) {
        const taken = await this.takeDue(stream, name, head.def, rest.claim, room, nowMs, until);
        result.deliveries.push(...taken.deliveries);
        result.exhausted.push(...taken.exhausted);
      }
    }
    result.deliveries.sort((a, b) => a.event.seq - b.event.seq);
    return result;
  }

  /**
   * Moves the frontier of an unfiltered consumer past the next `room` events, naming them a
   * new claim in the head; null when there is nothing after it. The head is written first,
   * then the events are read and the claim's leases written: receives on several processes
   * take turns only for the head's compare-and-set, not for reading events. Should the process
   * die in between, the claim is rebuilt once due (`rebuild`). Concurrent receives of this
   * process share one compare-and-set and one claim (each takes its share), so the processes,
   * not their clients, are what take turns.
   */
  private claimRange(stream: string, name: string, room: number, until: number, nowMs: number): Promise<RoundShare> {
    return new Promise((resolve, reject) => {
      const wish: ClaimWish = { room, until, nowMs, resolve, reject };
      this.pendingOf(stream, name).wishes.push(wish);
      this.kick(stream, name);
    });
  }

  /**
   * Retires the claim after the call that emptied it has answered, in the next write of the
   * head this process makes (with the claims of receives waiting, and whatever else it
   * emptied meanwhile): one write for all. Nothing waits on it — an empty claim holds no
   * lease, so positions and lag are the same before and after — and should it not happen
   * (the process stops first), the next receive that finds the claim due and empty retires it.
   */
  private retireLater(stream: string, name: string, claim: string, to: number | undefined): void {
    this.pendingOf(stream, name).retired.set(claim, to);
    this.kick(stream, name);
  }

  /**
   * A receive found the claim of its range written already: its process outlived the lease and
   * another rebuilt the claim, or two heads raced (nats-server before 2.9.21 can accept two
   * compare-and-sets of one key at one revision on a clustered bucket, nats-server#4320, so a
   * write based on an older head can undo a receive's move of the frontier). Claims are named by
   * where they start, so only one receive writes a claim; this one puts the head right
   * (`adoptInto`) and answers the rest of its range, named in the head, to claim next.
   */
  private async adopt(stream: string, name: string, ref: ClaimRef, dueMs: number): Promise<ClaimRef | null> {
    const found = await this.bucket.get<Claim>(claimKey(stream, name, ref.claim), { fromLeader: true });
    // deleted: dropped by a rewind, whose head names claims of another epoch
    if (!found) return null;
    const c = found.value;
    const to = c.to ?? ref.to;
    // the rest of this round's range, past the claim: a claim to rebuild (claims start only
    // where another ends, so no claim holds part of it)
    const rest: ClaimRef | null =
      to < ref.to
        ? { claim: claimAt({ epoch: epochOf(ref.claim) ?? 0 }, to + 1), from: to + 1, to: ref.to, dueMs }
        : null;
    let named = false;
    await this.changeHead(stream, name, (h) => {
      named = epochOf(ref.claim) === (h.epoch ?? 0) && rest !== null;
      return adoptInto(h, ref, c, rest);
    });
    return named ? rest : null;
  }

  private pendingOf(stream: string, name: string): HeadChanges {
    const key = headKey(stream, name);
    let pending = this.pending.get(key);
    if (!pending) this.pending.set(key, (pending = { stream, name, wishes: [], retired: new Map() }));
    return pending;
  }

  /** one write of the head at a time per consumer in this process, each taking all that waits */
  private kick(stream: string, name: string): void {
    const key = headKey(stream, name);
    if (this.writing.has(key)) return;
    const rounds = (async () => {
      for (;;) {
        const changes = this.pending.get(key);
        if (!changes) {
          // at once, not in a later callback: a change queued from here on starts a round of its own
          this.writing.delete(key);
          return;
        }
        this.pending.delete(key);
        try {
          const round = await this.headRound(changes);
          if (!round) for (const w of changes.wishes) w.resolve(null);
          else {
            // not awaited: the next round's write of the head goes on while this one's events are read
            const filled = this.fillRound(stream, name, round.def, round.ref, changes.wishes);
            changes.wishes.forEach((w, i) =>
              w.resolve(filled.then((all) => (all ? { deliveries: all[i]! } : { lost: round.ref }))),
            );
          }
          // their entries stay as they are (empty, naming their range) until erased
          this.retiredClaims.retired([...changes.retired.keys()].map((claim) => ({ stream, name, claim })));
        } catch (err) {
          // retirements are hints, found again when the claims come due
          for (const w of changes.wishes) w.reject(err);
        }
      }
    })();
    this.writing.set(key, rounds);
  }

  private async headRound(changes: HeadChanges): Promise<{ ref: ClaimRef; def: ConsumerDefinition } | null> {
    const { stream, name, wishes, retired } = changes;
    const key = headKey(stream, name);
    let fromLeader = false;
    for (let attempt = 0; ; attempt++) {
      // lost the head to another process: back off a little, more each time
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2) * Math.random()));
      fromLeader ||= attempt > 0;
      const found = await this.head(stream, name, fromLeader);
      if (!found) {
        if (wishes.length === 0) return null;
        throw await this.missing(stream, name);
      }
      const h = found.value;
      const scanned = frontierPast(h, retired);
      const bounds = wishes.length > 0 ? await this.bounds(stream) : { firstSeq: 0, lastSeq: -1 };
      const ref = assignRange(h, scanned, wishes, bounds);
      const taken = ref ? [ref] : [];
      const kept = h.claims.filter((r) => !retired.has(r.claim));
      if (taken.length === 0 && kept.length === h.claims.length && scanned === h.scannedSeq) {
        // A replica may answer a head from before the claims to retire were added to it: "not
        // named" must come from the leader, or the head would keep naming a claim that is to be
        // erased, and once due rebuild it with its acked events
        if (retired.size > 0 && !fromLeader) {
          fromLeader = true;
          continue;
        }
        return null;
      }
      const head: Head = { ...h, claims: [...kept, ...taken], scannedSeq: taken.at(-1)?.to ?? scanned };
      if (taken.length > 0) head.updatedAt = new Date(wishes[0]!.nowMs).toISOString();
      recountCommitted(head);
      if ((await this.bucket.update(key, head, found.revision)) !== null) return ref ? { ref, def: h.def } : null;
    }
  }

  /**
   * The same for a consumer of some types: how far `room` matching events reach is known only
   * by reading them, so the read comes before the head's compare-and-set, and each receive
   * makes its own.
   */
  private async claimMatching(
    stream: string,
    name: string,
    room: number,
    until: number,
    nowMs: number,
  ): Promise<{ ref: ClaimRef; events: StoredEvent[] } | null> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2) * Math.random()));
      const found = await this.requireHead(stream, name, attempt > 0);
      const h = found.value;
      const { lastSeq } = await this.bounds(stream);
      const events = await readAfter(this.events, stream, h.def, h.scannedSeq, room);
      // a short page means the log was read to its end; the frontier moves past skipped types
      const to = events.length === room ? events.at(-1)!.seq : Math.max(lastSeq, events.at(-1)?.seq ?? 0);
      if (events.length === 0) {
        // nothing to hand out: moving the frontier is a hint, another receive may do it
        if (to > h.scannedSeq)
          await this.bucket.update(headKey(stream, name), { ...h, scannedSeq: to }, found.revision);
        return null;
      }
      const ref: ClaimRef = { claim: claimAt(h, h.scannedSeq + 1), from: h.scannedSeq + 1, to, dueMs: until };
      const head: Head = { ...h, claims: [...h.claims, ref], scannedSeq: to, updatedAt: new Date(nowMs).toISOString() };
      head.committedSeq = head.claims[0]!.from - 1;
      if ((await this.bucket.update(headKey(stream, name), head, found.revision)) !== null) return { ref, events };
    }
  }

  /** a receive of a consumer with a type filter: a claim of its own */
  private async claimOwn(
    stream: string,
    name: string,
    room: number,
    until: number,
    nowMs: number,
  ): Promise<RoundShare> {
    const claimed = await this.claimMatching(stream, name, room, until, nowMs);
    if (!claimed) return null;
    const all = await this.writeClaim(stream, name, claimed.ref, [{ events: claimed.events, until, nowMs }]);
    return all ? { deliveries: all[0]! } : { lost: claimed.ref };
  }

  /** the events of a round's claim, read and written as one claim, each receive its share in order */
  private async fillRound(
    stream: string,
    name: string,
    def: ConsumerDefinition,
    ref: ClaimRef,
    wishes: ClaimWish[],
  ): Promise<Delivery[][] | null> {
    const events = await readRange(this.events, stream, def, ref);
    let offset = 0;
    const parts = wishes.map((w) => ({
      events: events.slice(offset, (offset += w.room)),
      until: w.until,
      nowMs: w.nowMs,
    }));
    return this.writeClaim(stream, name, ref, parts);
  }

  /**
   * Writes the claim `ref` with a lease for each event, and answers each part's deliveries;
   * null when the key was written already (nothing is handed out: see `adopt`).
   */
  private async writeClaim(
    stream: string,
    name: string,
    ref: ClaimRef,
    parts: { events: StoredEvent[]; until: number; nowMs: number }[],
  ): Promise<Delivery[][] | null> {
    const claim: Claim = { claim: ref.claim, from: ref.from, to: ref.to, leases: [] };
    const out = parts.map(({ events, until, nowMs }) =>
      events.map((event): Delivery => {
        const leaseToken = newToken(event.seq, claim.claim);
        claim.leases.push({ seq: event.seq, deliveries: 1, visibleMs: until, token: leaseToken, firstMs: nowMs });
        return { event, deliveries: 1, firstDeliveredMs: nowMs, leaseToken, leaseExpiresMs: until };
      }),
    );
    // the range was removed by retention meanwhile: nothing to write
    if (claim.leases.length === 0) this.retireLater(stream, name, ref.claim, ref.to);
    else if ((await this.bucket.createFirst(claimKey(stream, name, claim.claim), claim)) === null) return null;
    return out;
  }

  async ack(stream: string, name: string, tokens: string[], _nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, (c, lease) => {
      c.leases = c.leases.filter((l) => l !== lease);
    });
  }

  async nack(stream: string, name: string, tokens: string[], delayMs: number, nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, (_c, lease) => {
      lease.visibleMs = nowMs + delayMs;
      lease.token = null;
    });
  }

  async release(stream: string, name: string, tokens: string[], nowMs: number): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, (_c, lease) => {
      lease.visibleMs = nowMs;
      lease.token = null;
      lease.deliveries--;
    });
  }

  async extend(
    stream: string,
    name: string,
    tokens: string[],
    leaseMs: number,
    nowMs: number,
  ): Promise<LeaseOutcome[]> {
    return this.settleTokens(stream, name, tokens, (_c, lease) => {
      lease.visibleMs = nowMs + leaseMs;
    });
  }

  async seek(stream: string, name: string, start: StartPosition, nowMs: number): Promise<ConsumerRecord> {
    const position = await positionOf(this.events, stream, start);
    for (let attempt = 0; ; attempt++) {
      const found = await this.requireHead(stream, name, attempt > 0);
      const rewound = await this.rewind(stream, name, found, position, nowMs);
      if (rewound) return toRecord(rewound, position);
    }
  }

  async lag(stream: string, name: string, nowMs: number): Promise<ConsumerLag> {
    const { value: head } = await this.requireHead(stream, name);
    return lagOf(this.events, stream, head, await this.readClaims(stream, name, head.claims), nowMs);
  }

  /** hands out the due leases of one claim (at most `room`) */
  private async takeDue(
    stream: string,
    name: string,
    def: ConsumerDefinition,
    claim: string,
    room: number,
    nowMs: number,
    until: number,
  ): Promise<{ deliveries: Delivery[]; exhausted: Exhausted[]; nextDueMs: number }> {
    const take = (c: Claim) => this.handOutDue(stream, def, c, room, nowMs, until);
    let out = await this.changeClaim(stream, name, claim, take);
    // named by the head and due, but never written: rebuilt, then handed out at once
    if (!out && (await this.rebuild(stream, name, def, claim, nowMs)))
      out = await this.changeClaim(stream, name, claim, take);
    if (!out) return { deliveries: [], exhausted: [], nextDueMs: nowMs };
    if (out.empty) this.retireLater(stream, name, claim, out.to);
    return out;
  }

  /** the due leases of a claim (at most `room`) handed out again: the claim is changed in place */
  private async handOutDue(
    stream: string,
    def: ConsumerDefinition,
    c: Claim,
    room: number,
    nowMs: number,
    until: number,
  ): Promise<HandedOut & { to: number | undefined }> {
    const due = dueLeases(c, room, nowMs);
    const events = await this.events.getBySeqs(
      stream,
      due.map((l) => l.seq),
    );
    return { ...handOut(c, def, due, new Map(events.map((e) => [e.seq, e])), nowMs, until), to: c.to };
  }

  /**
   * A claim the head names whose entry was never written (its receive's process died or
   * stopped between the two writes, or is still on its way, past its lease): every matching
   * event of its range becomes due, never delivered. True when this call wrote it.
   *
   * A retired claim keeps its entry (empty) and a deleted one a delete marker, until no head
   * names it, so only a key never written is created: whoever writes it first wins — this
   * rebuild, another process's, or the slow receive itself, whose write then fails.
   */
  private async rebuild(
    stream: string,
    name: string,
    def: ConsumerDefinition,
    claim: string,
    nowMs: number,
  ): Promise<boolean> {
    const found = await this.head(stream, name, true);
    const ref = found?.value.claims.find((r) => r.claim === claim);
    if (!found || !ref || ref.dueMs > nowMs) return false;
    const events = await readRange(this.events, stream, def, ref);
    const leases: Lease[] = events.map((e) => ({ seq: e.seq, deliveries: 0, visibleMs: nowMs, token: null }));
    const key = claimKey(stream, name, claim);
    if ((await this.bucket.createFirst(key, { claim, from: ref.from, to: ref.to, leases } satisfies Claim)) !== null) {
      if (leases.length === 0) await this.retire(stream, name, new Set([claim]));
      return leases.length > 0;
    }
    // written meanwhile (handed out from), or deleted while the head names it (not done on
    // purpose: its leases went with it), so the head lets go of it too
    if (await this.bucket.get<Claim>(key, { fromLeader: true })) return true;
    await this.retire(stream, name, new Set([claim]));
    return false;
  }

  private async settleTokens(
    stream: string,
    name: string,
    tokens: string[],
    apply: (c: Claim, lease: Lease) => void,
  ): Promise<LeaseOutcome[]> {
    const parsed = tokens.map(parseToken);
    let head: Head | null = null;
    if (parsed.some((p) => p !== null && p.claim === null)) {
      // tokens of the earlier layout: the claim that now holds the seq
      head = (await this.requireHead(stream, name)).value;
    }
    const byClaim = new Map<string, number[]>();
    parsed.forEach((p, i) => {
      const claim =
        p === null ? undefined : (p.claim ?? head!.claims.find((r) => r.from <= p.seq && p.seq <= r.to)?.claim);
      if (claim !== undefined) byClaim.set(claim, [...(byClaim.get(claim) ?? []), i]);
    });
    const out: LeaseOutcome[] = tokens.map(() => 'not-held');
    let missing = false;
    await Promise.all(
      [...byClaim].map(async ([claim, indexes]) => {
        const settled = await this.changeClaim(stream, name, claim, (c) => {
          const before = nextDue(c.leases);
          const outcomes = indexes.map((i): LeaseOutcome => {
            const lease = c.leases.find((l) => l.seq === parsed[i]!.seq);
            if (!lease || lease.token !== tokens[i]) return 'not-held';
            apply(c, lease);
            return 'ok';
          });
          const after = nextDue(c.leases);
          // only an event given back sooner than the claim's first due one moves the head's due time
          return { outcomes, left: c.leases.length, to: c.to, dueMs: after < before ? after : null };
        });
        if (!settled) {
          missing = true;
          return;
        }
        settled.outcomes.forEach((o, j) => (out[indexes[j]!] = o));
        if (settled.left === 0) this.retireLater(stream, name, claim, settled.to);
        else if (settled.dueMs !== null) await this.dueBy(stream, name, claim, settled.dueMs);
      }),
    );
    // a claim that is gone (settled, rewound) or no claim named: the consumer must still exist
    if ((missing || byClaim.size === 0) && !head) await this.requireHead(stream, name);
    return out;
  }

  /** one read-modify-write of a claim; null when it is gone (nothing is created) */
  private changeClaim<R>(
    stream: string,
    name: string,
    claim: string,
    fn: (c: Claim) => Promise<R> | R,
  ): Promise<R | null> {
    return this.bucket.casUpdate<Claim, R | null>(claimKey(stream, name, claim), async (current) => {
      if (!current) return { result: null };
      const c = structuredClone(current.value);
      const result = await fn(c);
      // nothing due, or only stale tokens: no write
      return { next: JSON.stringify(c) === JSON.stringify(current.value) ? undefined : c, result };
    });
  }

  /** claims with no lease left: out of the head, then gone */
  private async retire(stream: string, name: string, claims: Set<string>): Promise<void> {
    await this.changeHead(stream, name, (h) => dropClaims(h, claims));
    this.retiredClaims.retired([...claims].map((claim) => ({ stream, name, claim })));
  }

  /** after no head names them any more (the order matters: see `rebuild`) */
  private async deleteClaims(stream: string, name: string, claims: Iterable<string>): Promise<void> {
    const keys = [...claims].map((c) => claimKey(stream, name, c));
    await Promise.all(keys.map((k) => this.bucket.delete(k).catch(() => {})));
    this.retiredClaims.retired([...claims].map((claim) => ({ stream, name, claim })));
  }

  /** waits for this process's writes of consumers' heads */
  async drain(): Promise<void> {
    while (this.writing.size > 0) await Promise.all(this.writing.values());
  }

  /** the store closes: its writes of heads are waited for; retired claims not erased yet stay */
  async close(): Promise<void> {
    await this.drain();
    await this.retiredClaims.stop();
  }

  /** an event of the claim was given back: receives look at the claim again from `dueMs` */
  private async dueBy(stream: string, name: string, claim: string, dueMs: number): Promise<void> {
    await this.changeHead(stream, name, (h) => {
      const ref = h.claims.find((r) => r.claim === claim);
      if (!ref || ref.dueMs <= dueMs) return false;
      ref.dueMs = dueMs;
      return true;
    });
  }

  /** a change of the head, retried when another process won the race; `fn` answers false to leave it */
  private async changeHead(stream: string, name: string, fn: (h: Head) => boolean): Promise<void> {
    let fromLeader = false;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2) * Math.random()));
      fromLeader ||= attempt > 0;
      const found = await this.head(stream, name, fromLeader);
      if (!found) return;
      const h = structuredClone(found.value);
      if (!fn(h)) {
        // a replica's head may predate the claim this is about (see headRound): ask the leader
        if (fromLeader) return;
        fromLeader = true;
        continue;
      }
      if ((await this.bucket.update(headKey(stream, name), h, found.revision)) !== null) return;
    }
  }

  /** every lease dropped, the frontier at `position`; null when the head moved on since it was read */
  private async rewind(
    stream: string,
    name: string,
    found: Versioned<Head>,
    position: number,
    nowMs: number,
  ): Promise<Head | null> {
    const head = found.value;
    const next: Head = {
      ...head,
      claims: [],
      // claims from here on have names of their own, apart from the ones dropped
      epoch: (head.epoch ?? 0) + 1,
      scannedSeq: position,
      committedSeq: position,
      updatedAt: new Date(nowMs).toISOString(),
    };
    if ((await this.bucket.update(headKey(stream, name), next, found.revision)) === null) return null;
    await this.deleteClaims(
      stream,
      name,
      head.claims.map((r) => r.claim),
    );
    return next;
  }

  /**
   * The head, upgraded when it is of the earlier layout or a process of the earlier version
   * put leases in it: those move into a claim of their own (written first, then the head at
   * the revision read; on a lost race the claim is deleted and the head read again).
   */
  private async head(stream: string, name: string, fromLeader = false): Promise<Versioned<Head> | null> {
    const key = headKey(stream, name);
    for (let attempt = 0; ; attempt++) {
      const found = await this.bucket.get<StoredHead>(key, { fromLeader: fromLeader || attempt > 0 });
      if (!found) return null;
      if (isCurrent(found.value)) return found as Versioned<Head>;
      const { head, claim } = upgrade(found.value);
      if (claim && (await this.bucket.createFirst(claimKey(stream, name, claim.claim), claim)) === null) continue;
      const revision = await this.bucket.update(key, head, found.revision);
      if (revision !== null) return { value: head, revision };
      if (claim) await this.deleteClaims(stream, name, [claim.claim]);
    }
  }

  private async requireHead(stream: string, name: string, fromLeader = false): Promise<Versioned<Head>> {
    const found = await this.head(stream, name, fromLeader);
    if (!found) throw await this.missing(stream, name);
    return found;
  }

  private async requireRecord(stream: string, name: string): Promise<ConsumerRecord> {
    const record = await this.get(stream, name);
    if (!record) throw await this.missing(stream, name);
    return record;
  }

  /** the committed position; reads claims in order until one holds a lease */
  private async committed(stream: string, name: string, head: Head): Promise<number> {
    for (const ref of head.claims) {
      const claim = await this.bucket.get<Claim>(claimKey(stream, name, ref.claim));
      if (!claim || claim.value.leases.length > 0) return committedOf(head, [ref], [claim?.value ?? null]);
    }
    return head.scannedSeq;
  }

  private async readClaims(stream: string, name: string, refs: ClaimRef[]): Promise<(Claim | null)[]> {
    return Promise.all(
      refs.map(async (r) => (await this.bucket.get<Claim>(claimKey(stream, name, r.claim)))?.value ?? null),
    );
  }

  /** the stream's first and last seq: one request to the stream's leader */
  private async bounds(stream: string): Promise<{ firstSeq: number; lastSeq: number }> {
    await this.requireStream(stream);
    try {
      const { state } = await this.jsm.streams.info(this.names.jsStream(stream));
      return { firstSeq: state.messages === 0 ? state.last_seq + 1 : state.first_seq, lastSeq: state.last_seq };
    } catch (err) {
      throw mapStorageError(err);
    }
  }

  private async missing(stream: string, name: string): Promise<RivuletError> {
    await this.requireStream(stream);
    return new RivuletError('CONSUMER_NOT_FOUND', `stream "${stream}" has no consumer "${name}"`, {
      details: { stream, consumer: name },
    });
  }

  private async requireStream(stream: string): Promise<void> {
    if (!(await this.catalog.get(stream))) {
      throw new RivuletError('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { details: { stream } });
    }
  }
}
