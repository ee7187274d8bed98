/**
 * Appends to one Rivulet stream: gap-free seqs, per-type positions and all-or-nothing
 * requests on a JetStream 2.9 stream, which has no atomic batch.
 *
 * How:
 * - The JetStream sequence is the seq. Every message is published with
 *   `Nats-Expected-Last-Sequence` = the seq just before it, so the server itself refuses a
 *   message that would not land right after its predecessor. Concurrent writers in other
 *   processes therefore cannot interleave inside a request: the loser's chain breaks at its
 *   first message, it re-reads the tail and tries again.
 * - Requests arriving together in this process share one pipelined chain (group commit);
 *   its PubAcks are gathered per chain (pub-ack-inbox.ts). While another process writes the
 *   stream too, a chain's first message goes alone (see `publish`).
 * - Every message carries `Nats-Msg-Id` = the event id. A duplicate (an id seen within the
 *   duplicate window) is answered by the server with the ORIGINAL seq and is not stored;
 *   retrying a message whose ack was lost is safe for the same reason.
 * - A request's events are encoded before anything is sent, so bad input writes nothing.
 *   Once sending began, the chain is retried (same ids) until every message is stored, for
 *   as long as the cluster needs to elect a new leader (`retryForMs`).
 * - typeSeq: the last one of each type is cached; on a cold cache it is read from the last
 *   message of that type's subject. A broken chain (another writer) drops the cache.
 */
import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { isStorageRefusal, storageFull } from './nats-storage-errors.js';
import { RivuletError } from '../../kernel/errors.js';
import type { AppendedEvent, NewEvent } from '../../kernel/envelope.js';
import { MORE_HEADER, eventHeaders, typeSeqOf } from './nats-event-codec.js';
import { token, type NatsNames } from './nats-names.js';
import type { OutgoingMessage, PubAckInbox, PubOutcome } from './pub-ack-inbox.js';

export interface WriteRequest {
  events: NewEvent[];
  bodies: string[];
  resolve: (answers: AppendedEvent[]) => void;
  reject: (err: unknown) => void;
}

interface Item {
  request: WriteRequest;
  index: number;
  subject: string;
  /** an earlier attempt may have stored it: a duplicate answer then means "ours" */
  uncertain: boolean;
  answer: AppendedEvent;
}

/** most events one chain carries; more requests wait for the next chain */
const CHAIN_EVENTS = 2000;
/** how long a tail left mid-chain may stand still before its writer is taken for dead */
const TAIL_WAIT_MS = 2000;
/** how long after the last sign of another writer chains keep starting with a lone message */
const CONTENDED_MS = 10_000;
/** how long a chain waits for its acknowledgements before their outcome counts as unknown */
export const ACK_TIMEOUT_MS = 5000;
/** JetStream's refusals of an expected last sequence (10071) or last msg id (10164) */
const WRONG_LAST = new Set([10071, 10164]);

export class StreamWriter {
  private readonly queue: WriteRequest[] = [];
  private running: Promise<void> | null = null;
  private lastSeq: number | null = null;
  /** until when chains start with their first message alone (another process writes too) */
  private contendedUntil = 0;
  private readonly typeSeqs = new Map<string, number>();
  /** `<prefix>.e.<stream>.<type>.` per type: an event's subject is this and its id's token */
  private readonly typeSubjects = new Map<string, string>();

  constructor(
    private readonly stream: string,
    private readonly inbox: PubAckInbox,
    private readonly jsm: JetStreamManager,
    private readonly names: NatsNames,
    private readonly retryForMs: number,
    private readonly onCommitted: (stream: string, lastSeq: number) => void,
  ) {}

  submit(events: NewEvent[], bodies: string[]): Promise<AppendedEvent[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, bodies, resolve, reject });
      this.running ??= this.drainQueue().finally(() => {
        this.running = null;
      });
    });
  }

  /** resolves once every submitted request is settled */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** forget cached positions (the stream was deleted or re-created) */
  reset(): void {
    this.lastSeq = null;
    this.typeSeqs.clear();
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const group: WriteRequest[] = [];
      let size = 0;
      while (this.queue.length > 0 && (group.length === 0 || size + this.queue[0]!.events.length <= CHAIN_EVENTS)) {
        const r = this.queue.shift()!;
        size += r.events.length;
        group.push(r);
      }
      try {
        await this.writeGroup(group);
      } catch (err) {
        for (const r of group) r.reject(err);
      }
    }
  }

  private async writeGroup(group: WriteRequest[]): Promise<void> {
    // an id repeated within the group is answered like the first one, without a second message
    const firstOfId = new Map<string, Item>();
    const copies: [AppendedEvent, Item][] = [];
    const items: Item[] = [];
    const answers = group.map((request) =>
      request.events.map((ev, index): AppendedEvent => {
        const answer: AppendedEvent = { id: ev.id, seq: 0, typeSeq: 0, duplicate: false };
        const earlier = firstOfId.get(ev.id);
        if (earlier) {
          answer.duplicate = true;
          copies.push([answer, earlier]);
          return answer;
        }
        const item: Item = { request, index, subject: this.subjectOf(ev.type, ev.id), uncertain: false, answer };
        firstOfId.set(ev.id, item);
        items.push(item);
        return answer;
      }),
    );

    let pending = items;
    const deadline = Date.now() + this.retryForMs;
    let round = 0;
    while (pending.length > 0) {
      if (this.lastSeq === null) await this.loadTail();
      const base = this.lastSeq!;
      const typeSeqs = new Map<string, number>();
      for (const item of pending) {
        const type = item.request.events[item.index]!.type;
        if (typeSeqs.has(type)) continue;
        // a cached typeSeq is taken without an await: one less turn of the microtask queue per chain
        const cached = this.typeSeqs.get(type);
        typeSeqs.set(type, cached ?? (await this.lastTypeSeq(type)));
      }
      const typeSeqOfSent: number[] = [];
      const messages: OutgoingMessage[] = pending.map((item, i) => {
        const ev = item.request.events[item.index]!;
        const typeSeq = typeSeqs.get(ev.type)! + 1;
        typeSeqs.set(ev.type, typeSeq);
        typeSeqOfSent.push(typeSeq);
        // After the first message, each also expects its predecessor's id: a pipelined message
        // must not land behind another writer's message once ours before it was refused.
        const previous = i > 0 ? pending[i - 1]! : null;
        // every message of the chain but its last: other processes wait for the chain's end
        // rather than cut in between two of its requests and break the rest of it
        const more = i + 1 < pending.length;
        return {
          subject: item.subject,
          body: item.request.bodies[item.index]!,
          headers: eventHeaders(
            ev.id,
            base + i,
            previous === null ? null : previous.request.events[previous.index]!.id,
            typeSeq,
            more,
          ),
        };
      });
      const outcomes = await this.publish(messages);
      let done = 0;
      let failure: PubOutcome | null = null;
      for (let i = 0; i < outcomes.length; i++) {
        const outcome = outcomes[i]!;
        const item = pending[i]!;
        if (outcome.kind !== 'stored') {
          failure = outcome;
          break;
        }
        done++;
        if (!outcome.duplicate) {
          item.answer.seq = outcome.seq;
          item.answer.typeSeq = typeSeqOfSent[i]!;
          this.typeSeqs.set(item.request.events[item.index]!.type, typeSeqOfSent[i]!);
          this.lastSeq = outcome.seq;
          continue;
        }
        // stored before: by another request (a true duplicate) or by our own lost-ack attempt
        const original = await this.jsm.streams.getMessage(this.names.jsStream(this.stream), { seq: outcome.seq });
        item.answer.seq = outcome.seq;
        item.answer.typeSeq = typeSeqOf(original?.header);
        item.answer.duplicate = !item.uncertain;
        // the chain after a duplicate was refused (its expected sequence moved); resend it
        break;
      }
      pending = pending.slice(done);
      if (pending.length === 0) break;
      if (failure !== null) {
        if (failure.kind === 'refused' && WRONG_LAST.has(failure.errCode)) {
          // another writer appended since we last looked (if a message of ours before the
          // refused one was stored, another writer's landed right after it): re-read the tail
          // and go again, first message alone for a while
          this.reset();
          this.contendedUntil = Date.now() + CONTENDED_MS;
        } else if (failure.kind === 'refused' && isStorageRefusal(failure.errCode, failure.description)) {
          // out of storage: refused, not stored, and a retry soon would only be refused again
          throw storageFull();
        } else if (failure.kind === 'no-stream' && (await this.streamGone())) {
          throw new RivuletError('STREAM_NOT_FOUND', `stream "${this.stream}" does not exist`, {
            details: { stream: this.stream },
          });
        } else {
          // unknown outcome (timeout, leader change, a refusal of another kind): it may be
          // stored; the id makes a retry safe
          pending[0]!.uncertain = true;
          this.reset();
          if (Date.now() > deadline) {
            throw new RivuletError(
              'STORE_UNAVAILABLE',
              `appending to stream "${this.stream}" failed: ${describeOutcome(failure)}`,
              { retryAfter: 5 },
            );
          }
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(round, 5))));
        }
      }
      round++;
    }

    for (const [answer, first] of copies) {
      answer.seq = first.answer.seq;
      answer.typeSeq = first.answer.typeSeq;
    }
    if (this.lastSeq !== null) this.onCommitted(this.stream, this.lastSeq);
    group.forEach((r, i) => r.resolve(answers[i]!));
  }

  private subjectOf(type: string, id: string): string {
    let prefix = this.typeSubjects.get(type);
    if (prefix === undefined) {
      prefix = this.names.typeSubjectPrefix(this.stream, type);
      if (this.typeSubjects.size > 1000) this.typeSubjects.clear();
      this.typeSubjects.set(type, prefix);
    }
    return prefix + token(id);
  }

  /**
   * Sends a chain. While other processes write to the stream too, its first message goes
   * alone: the writers race for the tail with one message each, and the loser's whole chain
   * is not sent only to be refused (refused messages cost the server about what stored ones
   * do). The winner's chain carries `Rivulet-More` to its end, so the loser waits for it.
   */
  private async publish(messages: OutgoingMessage[]): Promise<PubOutcome[]> {
    if (messages.length < 2 || Date.now() > this.contendedUntil)
      return this.inbox.publishChain(messages, ACK_TIMEOUT_MS);
    const [first] = await this.inbox.publishChain(messages.slice(0, 1), ACK_TIMEOUT_MS);
    if (first!.kind !== 'stored' || first!.duplicate) return [first!];
    return [first!, ...(await this.inbox.publishChain(messages.slice(1), ACK_TIMEOUT_MS))];
  }

  /**
   * Reads where the stream ends. While the last message says another message follows
   * (`Rivulet-More`), its writer — another process — is mid-chain: wait for the end rather
   * than cut in, so requests stay contiguous. A tail that stops moving for TAIL_WAIT_MS belongs
   * to a writer that died mid-chain (see docs/store-nats.md); then append after it.
   */
  private async loadTail(): Promise<void> {
    const js = this.names.jsStream(this.stream);
    let seen = -1;
    let since = Date.now();
    try {
      for (;;) {
        const last = (await this.jsm.streams.info(js)).state.last_seq;
        this.lastSeq = last;
        if (last === 0) break;
        const message = await this.jsm.streams.getMessage(js, { seq: last }).catch(() => null);
        if (message?.header?.get(MORE_HEADER) !== '1') break;
        this.contendedUntil = Date.now() + CONTENDED_MS;
        if (last !== seen) {
          seen = last;
          since = Date.now();
        } else if (Date.now() - since > TAIL_WAIT_MS) {
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    } catch (err) {
      if (isNoStream(err))
        throw new RivuletError('STREAM_NOT_FOUND', `stream "${this.stream}" does not exist`, {
          details: { stream: this.stream },
        });
      throw err;
    }
    this.typeSeqs.clear();
  }

  private streamGone(): Promise<boolean> {
    return streamGone(this.jsm, this.names, this.stream);
  }

  private async lastTypeSeq(type: string): Promise<number> {
    const cached = this.typeSeqs.get(type);
    if (cached !== undefined) return cached;
    const last = await this.jsm.streams.getMessage(this.names.jsStream(this.stream), {
      last_by_subj: this.names.typeFilter(this.stream, type),
    });
    const value = last ? typeSeqOf(last.header) : 0;
    this.typeSeqs.set(type, value);
    return value;
  }
}

export function describeOutcome(outcome: PubOutcome): string {
  switch (outcome.kind) {
    case 'refused':
      return `refused (${outcome.errCode}: ${outcome.description})`;
    case 'unknown':
      return outcome.description;
    case 'no-stream':
      return 'no stream answered';
    default:
      return 'stored';
  }
}

/** a publish nobody answered: the stream is gone, or its replicas are electing a leader */
export async function streamGone(jsm: JetStreamManager, names: NatsNames, stream: string): Promise<boolean> {
  try {
    await jsm.streams.info(names.jsStream(stream));
    return false;
  } catch (err) {
    return isNoStream(err) && !/no responders|not enabled/i.test((err as Error).message);
  }
}

/** no JetStream stream listens on the subject (or the stream is gone) */
export function isNoStream(err: unknown): boolean {
  if (err instanceof JetStreamApiError && err.code === 10059) return true;
  const name = (err as Error)?.constructor?.name ?? '';
  return (
    name === 'StreamNotFoundError' ||
    name === 'JetStreamNotEnabled' ||
    /stream not found|no responders/i.test((err as Error)?.message ?? '')
  );
}
