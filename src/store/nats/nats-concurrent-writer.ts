/**
 * Appends to a stream whose settings say `options.writeMode: "concurrent"`: no expected-last
 * chain, so writers on any number of processes append at once and JetStream orders their
 * messages as they arrive. The JetStream sequence is still the seq (gap-free, 1-based, one
 * total order every reader sees).
 *
 * What it gives up, by design (docs/store-nats.md, "A hot stream"):
 * - a request's events are in request order but not contiguous: another writer's events may
 *   land between them;
 * - a request is all-or-nothing only per message: if one message is refused (storage full)
 *   the ones before it stay stored, and a retry with the same ids answers them as duplicates;
 * - typeSeq is 0: a per-type position needs one writer per stream.
 * What stays: `Nats-Msg-Id` de-duplication, so a message whose acknowledgement was lost is
 * re-sent until the deadline without ever being stored twice, and a producer-supplied id is
 * written once within the duplicate window.
 *
 * Requests do not wait for each other: each one's messages leave as soon as it is submitted
 * (the client coalesces them into one socket write per tick) and come back on the shared inbox.
 */
import { PubHeaders } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { RivuletError } from '../../kernel/errors.js';
import type { AppendedEvent, NewEvent } from '../../kernel/envelope.js';
import { typeSeqOf } from './nats-event-codec.js';
import type { NatsNames } from './nats-names.js';
import { isStorageRefusal, storageFull } from './nats-storage-errors.js';
import { ACK_TIMEOUT_MS, describeOutcome, streamGone } from './nats-stream-writer.js';
import type { OutgoingMessage, PubAckInbox, PubOutcome } from './pub-ack-inbox.js';

export class ConcurrentStreamWriter {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly stream: string,
    private readonly inbox: PubAckInbox,
    private readonly jsm: JetStreamManager,
    private readonly names: NatsNames,
    private readonly retryForMs: number,
    private readonly onCommitted: (stream: string, lastSeq: number) => void,
  ) {}

  submit(events: NewEvent[], bodies: string[]): Promise<AppendedEvent[]> {
    const p = this.write(events, bodies);
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  reset(): void {
    // nothing is cached: JetStream places every message
  }

  private async write(events: NewEvent[], bodies: string[]): Promise<AppendedEvent[]> {
    const answers: AppendedEvent[] = [];
    // an id repeated within the request is answered like its first copy, without a second message
    const firstOfId = new Map<string, number>();
    const copies: [number, number][] = [];
    let pending: number[] = [];
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      answers.push({ id: ev.id, seq: 0, typeSeq: 0, duplicate: false });
      const earlier = firstOfId.get(ev.id);
      if (earlier !== undefined) {
        copies.push([i, earlier]);
        continue;
      }
      firstOfId.set(ev.id, i);
      pending.push(i);
    }
    const uncertain = new Set<number>();
    const deadline = Date.now() + this.retryForMs;
    let lastSeq = 0;
    for (let round = 0; pending.length > 0; round++) {
      const messages: OutgoingMessage[] = pending.map((i) => {
        const h = headers();
        h.set(PubHeaders.MsgIdHdr, events[i]!.id);
        return {
          subject: this.names.eventSubject(this.stream, events[i]!.type, events[i]!.id),
          body: bodies[i]!,
          headers: h,
        };
      });
      const outcomes = await this.inbox.publishChain(messages, ACK_TIMEOUT_MS);
      const retry: number[] = [];
      let failure: PubOutcome | null = null;
      for (let k = 0; k < outcomes.length; k++) {
        const outcome = outcomes[k]!;
        const i = pending[k]!;
        if (outcome.kind !== 'stored') {
          failure ??= outcome;
          retry.push(i);
          continue;
        }
        answers[i]!.seq = outcome.seq;
        lastSeq = Math.max(lastSeq, outcome.seq);
        if (outcome.duplicate) {
          // stored before: by another request (a true duplicate), or by our own attempt whose
          // acknowledgement was lost; an event of a chained past keeps its typeSeq
          answers[i]!.duplicate = !uncertain.has(i);
          const original = await this.jsm.streams
            .getMessage(this.names.jsStream(this.stream), { seq: outcome.seq })
            .catch(() => null);
          answers[i]!.typeSeq = typeSeqOf(original?.header);
        }
      }
      if (failure === null) break;
      if (lastSeq > 0) this.onCommitted(this.stream, lastSeq);
      if (failure.kind === 'refused' && isStorageRefusal(failure.errCode, failure.description)) throw storageFull();
      if (failure.kind === 'no-stream' && (await streamGone(this.jsm, this.names, this.stream))) {
        throw new RivuletError('STREAM_NOT_FOUND', `stream "${this.stream}" does not exist`, {
          details: { stream: this.stream },
        });
      }
      // unknown outcome (timeout, leader change, another refusal): the id makes a resend safe
      for (const i of retry) uncertain.add(i);
      if (Date.now() > deadline) {
        throw new RivuletError(
          'STORE_UNAVAILABLE',
          `appending to stream "${this.stream}" failed: ${describeOutcome(failure)}`,
          { retryAfter: 5 },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(round, 5))));
      pending = retry;
    }
    for (const [copy, first] of copies) {
      answers[copy]!.seq = answers[first]!.seq;
      answers[copy]!.typeSeq = answers[first]!.typeSeq;
      answers[copy]!.duplicate = true;
    }
    if (lastSeq > 0) this.onCommitted(this.stream, lastSeq);
    return answers;
  }
}
