/**
 * Pages of a JetStream stream read in batches: one short-lived consumer per read, pulled a
 * batch at a time. nats-server 2.9 answers a message-get with one message, so reading a page
 * by gets costs a request (and, on the stream-info API, a JSON body with the message in base64)
 * per event; a consumer delivers a whole batch to one pull.
 *
 * The consumer is ephemeral, in memory, one replica, no acks, and filtered on the subject the
 * read asks for, so the server skips other types itself. Its creation answers how many
 * messages match from the start seq on (`num_pending`): an empty read costs one round trip
 * and no pull. It is deleted when the read ends (or left: the server drops it after
 * `INACTIVE_NS`). Its messages' reply subjects carry each one's stream seq and receive time,
 * so nothing else is asked per message.
 *
 * The pulls of all reads of a process share one inbox subscription. At most `MAX_PULLS`
 * consumer creations and pulls are in flight at once: a flood of reads queues here, behind one
 * another, and the socket carries the writers' acknowledgements between their batches.
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { RawMessage } from './nats-event-codec.js';

/** the first pull asks for 100 messages, later ones for up to MAX_BATCH or ~BATCH_BYTES by the sizes seen */
const MAX_BATCH = 250;
const BATCH_BYTES = 4 * 1024 * 1024;
const MAX_PULLS = 4;
const PULL_TIMEOUT_MS = 5000;
const INACTIVE_NS = 10_000_000_000;

export interface PageQuery {
  jsStream: string;
  fromSeq: number;
  /**
   * one type's subjects, or null for the whole stream. (A filter that covers the whole stream
   * is not the same as none on 2.9: the server then counts the pending messages subject by
   * subject — every event has a subject of its own — which cost 25-60 ms per consumer on a
   * 20,000-event stream against 1-5 ms without.)
   */
  filter: string | null;
  /** at most this many messages in all (the caller may stop earlier) */
  max: number;
}

/** a JetStream API answer that is an error: `errCode` 10059 is "stream not found" */
export class JetStreamApiError extends Error {
  constructor(
    readonly code: number,
    readonly errCode: number,
    description: string,
  ) {
    super(description);
  }
}

interface Pull {
  want: number;
  got: RawMessage[];
  timer: NodeJS.Timeout;
  done: (err: Error | null) => void;
}

interface ConsumerAnswer {
  name?: string;
  num_pending?: number;
  error?: { code?: number; err_code?: number; description?: string };
}

export class NatsPageReader {
  private readonly prefix = createInbox();
  /** by consumer name: a consumer has one pull at a time */
  private readonly pulls = new Map<string, Pull>();
  private sub: Subscription | null = null;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly api = '$JS.API',
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        if (!err) this.onMessage(msg);
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    for (const [consumer, pull] of [...this.pulls]) this.finish(consumer, pull, new Error('the connection is closing'));
  }

  /**
   * Batches of the messages matching `filter` from `fromSeq` on, in seq order. Stops after
   * `max` messages or at the last message that matched when the read began. Throws a
   * JetStreamApiError when the server refuses the consumer (no such stream: 10059).
   */
  async *batches(q: PageQuery): AsyncIterable<RawMessage[]> {
    if (q.max <= 0) return;
    const created = await this.createConsumer(q);
    try {
      let left = Math.min(q.max, created.pending);
      let batch = Math.min(left, 100);
      while (left > 0) {
        const got = await this.pull(created.name, q.jsStream, Math.min(left, batch));
        if (got.length > 0) yield got;
        // fewer than asked: retention removed some meanwhile, nothing more to read
        if (got.length < Math.min(left, batch)) return;
        left -= got.length;
        const bytes = got.reduce((n, m) => n + m.data.byteLength, 0) / got.length;
        batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BYTES / Math.max(1, bytes))));
      }
    } finally {
      // answered by the server whenever; the read does not wait for it
      this.nc
        .request(`${this.api}.CONSUMER.DELETE.${q.jsStream}.${created.name}`, undefined, { timeout: PULL_TIMEOUT_MS })
        .catch(() => {});
    }
  }

  private createConsumer(q: PageQuery): Promise<{ name: string; pending: number }> {
    const config = {
      deliver_policy: 'by_start_sequence',
      opt_start_seq: Math.max(1, q.fromSeq),
      ack_policy: 'none',
      ...(q.filter === null ? {} : { filter_subject: q.filter }),
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: INACTIVE_NS,
    };
    return this.inTurn(async () => {
      const reply = await this.nc.request(
        `${this.api}.CONSUMER.CREATE.${q.jsStream}`,
        JSON.stringify({ stream_name: q.jsStream, config }),
        { timeout: PULL_TIMEOUT_MS },
      );
      const answer = JSON.parse(reply.string()) as ConsumerAnswer;
      if (answer.error || typeof answer.name !== 'string') {
        throw new JetStreamApiError(
          answer.error?.code ?? 0,
          answer.error?.err_code ?? 0,
          answer.error?.description ?? 'no consumer in the answer',
        );
      }
      return { name: answer.name, pending: answer.num_pending ?? 0 };
    });
  }

  /** runs `fn` once fewer than MAX_PULLS requests of reads are in flight */
  private async inTurn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= MAX_PULLS) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** one pull of `want` messages (fewer if the stream has fewer), taking a turn among reads */
  private pull(consumer: string, jsStream: string, want: number): Promise<RawMessage[]> {
    return this.inTurn(
      () =>
        new Promise<RawMessage[]>((resolve, reject) => {
          const pull: Pull = {
            want,
            got: [],
            timer: setTimeout(
              () => this.finish(consumer, pull, new Error(`timeout: no batch within ${PULL_TIMEOUT_MS} ms`)),
              PULL_TIMEOUT_MS,
            ),
            done: (err) => (err ? reject(err) : resolve(pull.got)),
          };
          this.pulls.set(consumer, pull);
          try {
            this.nc.publish(
              `${this.api}.CONSUMER.MSG.NEXT.${jsStream}.${consumer}`,
              JSON.stringify({ batch: want, no_wait: true }),
              { reply: `${this.prefix}.${consumer}` },
            );
          } catch (err) {
            this.finish(consumer, pull, err as Error);
          }
        }),
    );
  }

  /**
   * Messages keep their own subject on delivery, so a message is matched to its pull by the
   * consumer named in its reply subject; a status (no reply subject) comes on the pull's inbox.
   */
  private onMessage(msg: Msg): void {
    if (!msg.reply) {
      // 404: no (more) messages, 408: the pull expired, 409: the consumer went away
      const consumer = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
      const pull = this.pulls.get(consumer);
      if (!pull) return;
      const code = msg.headers?.code ?? 0;
      this.finish(
        consumer,
        pull,
        code === 404 || code === 408 ? null : new Error(`status ${code} ${msg.headers?.description ?? ''} on a pull`),
      );
      return;
    }
    const info = ackInfo(msg.reply);
    const pull = info ? this.pulls.get(info.consumer) : undefined;
    if (!info || !pull) return;
    pull.got.push(new PulledMessage(msg, info.seq, info.receivedMs));
    if (pull.got.length >= pull.want) this.finish(info.consumer, pull, null);
  }

  private finish(consumer: string, pull: Pull, err: Error | null): void {
    if (this.pulls.get(consumer) !== pull) return;
    this.pulls.delete(consumer);
    clearTimeout(pull.timer);
    pull.done(err);
  }
}

/**
 * A message of a pull. Its subject and headers are decoded when asked for: most reads need
 * neither, or only the headers. (A class: one small object per message, where an object with
 * its own accessors cost a pair of closures more.)
 */
class PulledMessage implements RawMessage {
  /** the client makes a new view of the body each time it is asked */
  readonly data: Uint8Array;

  constructor(
    private readonly msg: Msg,
    readonly seq: number,
    readonly receivedMs: number,
  ) {
    this.data = msg.data;
  }

  get subject(): string {
    return this.msg.subject;
  }

  get header(): MsgHdrs | undefined {
    return this.msg.headers;
  }
}

/**
 * A delivered message's reply subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ns>.<pending>`,
 * or with a domain and account hash before the stream (12 tokens or more).
 */
export function ackInfo(reply: string): { consumer: string; seq: number; receivedMs: number } | null {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return null;
  const at = t.length === 9 ? 4 : t.length >= 12 ? 6 : -1;
  if (at < 0) return null;
  const seq = Number(t[at + 1]);
  const ns = t[at + 3] ?? '';
  // nanoseconds do not fit a double exactly: the milliseconds are the digits before the last 6
  const receivedMs = Number(ns.length > 6 ? ns.slice(0, -6) : '0');
  return Number.isSafeInteger(seq) ? { consumer: t[at - 1]!, seq, receivedMs } : null;
}
