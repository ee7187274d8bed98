/**
 * JetStream publishes whose acknowledgements come back on one subscription, a chain at a time.
 *
 * `js.publish` makes every message a request of its own: a reply subscription entry, a timer,
 * and two or three Error objects with captured stacks (the request's async trace, its timeout
 * and the "cancelled" rejection left behind after the answer). Under load that was about a
 * third of the produce path's CPU. Here a chain of messages gets one map entry and one timer:
 * message `i` of chain `c` is published with the reply subject `<inbox>.<c>.<i>`, and the
 * PubAcks (or the server's refusals) are collected from a single wildcard subscription.
 *
 * The wire protocol is the one `js.publish` speaks: the same headers, the same PubAck JSON.
 * Nothing is acknowledged to a client here; the caller does that once every outcome is
 * `stored` (durability is unchanged: a PubAck is JetStream's acknowledgement of the write).
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export type PubOutcome =
  /** JetStream stored it at `seq`, or had stored it before (`duplicate`: `seq` is the original) */
  | { kind: 'stored'; seq: number; duplicate: boolean }
  /** JetStream refused it (`errCode` is the JetStream API error code, e.g. 10071 wrong last sequence) */
  | { kind: 'refused'; errCode: number; description: string }
  /** no stream listens on the subject */
  | { kind: 'no-stream' }
  /** no answer in time: it may or may not be stored */
  | { kind: 'unknown'; description: string };

export interface OutgoingMessage {
  subject: string;
  body: string | Uint8Array;
  headers: MsgHdrs;
}

interface Chain {
  outcomes: (PubOutcome | undefined)[];
  remaining: number;
  timer: NodeJS.Timeout;
  done: (outcomes: PubOutcome[]) => void;
}

interface AckJson {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

export class PubAckInbox {
  private readonly prefix = createInbox();
  private readonly chains = new Map<number, Chain>();
  private nextChain = 0;
  private sub: Subscription | null = null;

  /** `beforePublish` runs before each chain's messages are written, to add others to the same write */
  constructor(
    private readonly nc: NatsConnection,
    private readonly beforePublish: () => void = () => {},
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(`${this.prefix}.>`, {
      callback: (err, msg) => {
        if (!err) this.onAck(msg);
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    for (const id of [...this.chains.keys()]) this.expire(id, 'the connection is closing');
  }

  /**
   * Publishes the messages in order (they leave in one socket write) and answers each one's
   * outcome once all are answered, or after `timeoutMs` with the unanswered ones `unknown`.
   */
  publishChain(messages: OutgoingMessage[], timeoutMs: number): Promise<PubOutcome[]> {
    return new Promise((resolve) => {
      if (messages.length === 0) return resolve([]);
      const id = this.nextChain++;
      if (this.nextChain >= Number.MAX_SAFE_INTEGER) this.nextChain = 0;
      const chain: Chain = {
        outcomes: new Array<PubOutcome | undefined>(messages.length),
        remaining: messages.length,
        timer: setTimeout(() => this.expire(id, `no acknowledgement within ${timeoutMs} ms`), timeoutMs),
        done: resolve,
      };
      this.chains.set(id, chain);
      this.beforePublish();
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        try {
          this.nc.publish(m.subject, m.body, { reply: `${this.prefix}.${id}.${i}`, headers: m.headers });
        } catch (err) {
          // the connection is closed or draining: nothing after this left either
          for (let j = i; j < messages.length; j++)
            this.settle(chain, id, j, { kind: 'unknown', description: (err as Error).message });
          return;
        }
      }
    });
  }

  private onAck(msg: Msg): void {
    const subject = msg.subject;
    const dot = subject.lastIndexOf('.');
    const prev = subject.lastIndexOf('.', dot - 1);
    const id = Number(subject.slice(prev + 1, dot));
    const index = Number(subject.slice(dot + 1));
    const chain = this.chains.get(id);
    if (!chain || !(index >= 0 && index < chain.outcomes.length)) return; // answered after its chain expired
    this.settle(chain, id, index, outcomeOf(msg));
  }

  private settle(chain: Chain, id: number, index: number, outcome: PubOutcome): void {
    if (chain.outcomes[index] !== undefined) return;
    chain.outcomes[index] = outcome;
    if (--chain.remaining > 0) return;
    clearTimeout(chain.timer);
    this.chains.delete(id);
    chain.done(chain.outcomes as PubOutcome[]);
  }

  private expire(id: number, description: string): void {
    const chain = this.chains.get(id);
    if (!chain) return;
    for (let i = 0; i < chain.outcomes.length; i++) this.settle(chain, id, i, { kind: 'unknown', description });
  }
}

function outcomeOf(msg: Msg): PubOutcome {
  // the server answers a publish nobody listens to with a 503 status and no body
  if (msg.data.length === 0) {
    return msg.headers?.code === 503
      ? { kind: 'no-stream' }
      : { kind: 'unknown', description: `status ${msg.headers?.code ?? '?'} ${msg.headers?.description ?? ''}` };
  }
  let ack: AckJson;
  try {
    ack = JSON.parse(msg.string()) as AckJson;
  } catch {
    return { kind: 'unknown', description: 'an acknowledgement that is not JSON' };
  }
  if (ack.error) {
    // 10059: stream not found
    if (ack.error.err_code === 10059) return { kind: 'no-stream' };
    return {
      kind: 'refused',
      errCode: ack.error.err_code ?? 0,
      description: ack.error.description ?? `error ${ack.error.code ?? '?'}`,
    };
  }
  if (typeof ack.seq !== 'number' || !ack.stream)
    return { kind: 'unknown', description: 'an acknowledgement without a seq' };
  return { kind: 'stored', seq: ack.seq, duplicate: ack.duplicate === true };
}
