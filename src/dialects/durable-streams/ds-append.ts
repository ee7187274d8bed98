/**
 * POST: append, append-and-close, close. Appends with protocol state to keep (an idempotent
 * producer, `Stream-Seq`, closing) run one at a time per stream in this process; plain
 * appends run side by side. An idempotent producer's events carry ids built from
 * (producer, epoch, seq, index), so the store's id de-duplication refuses a second copy even
 * if the server died between writing the events and recording the producer's state.
 */
import type { JsonValue } from '../../kernel/envelope.js';
import type { Principal } from '../../core/keys/key-service.js';
import { parseJsonBody } from '../../http/plugins/json-body.js';
import { DsProblem, type DsContext, type OpenStream } from './ds-context.js';
import { bytesEvent, messageEvents, type EventOrigin } from './ds-events.js';
import { isJsonMode, mediaType, PRODUCER_STATE_TTL_MS, type DsMeta } from './ds-meta.js';
import { endSeqOf, offsetOf } from './ds-offsets.js';

export interface AppendRequest {
  name: string;
  path: string;
  principal: Principal | null;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  maxJsonDepth: number;
  /** the mount's absolute URL, for Location */
  base: string;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
}

interface ProducerHeaders {
  id: string;
  epoch: number;
  seq: number;
}

const STRICT_INT = /^\d{1,16}$/;

/** one value of a request header */
export function header(h: AppendRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function producerHeaders(h: AppendRequest['headers']): ProducerHeaders | null {
  const id = header(h, 'producer-id');
  const epoch = header(h, 'producer-epoch');
  const seq = header(h, 'producer-seq');
  if (id === undefined && epoch === undefined && seq === undefined) return null;
  if (id === undefined || epoch === undefined || seq === undefined) {
    throw new DsProblem(400, 'Producer-Id, Producer-Epoch and Producer-Seq go together: send all three or none');
  }
  if (id === '') throw new DsProblem(400, 'Producer-Id must not be empty');
  if (id.length > 256) throw new DsProblem(400, 'Producer-Id has at most 256 characters');
  const parse = (text: string, what: string) => {
    const n = Number(text);
    if (!STRICT_INT.test(text) || !Number.isSafeInteger(n))
      throw new DsProblem(400, `${what} must be a non-negative integer of at most 2^53-1, in digits`);
    return n;
  };
  return { id, epoch: parse(epoch, 'Producer-Epoch'), seq: parse(seq, 'Producer-Seq') };
}

type Verdict = { kind: 'accept' } | { kind: 'duplicate'; lastSeq: number };

/** the protocol's epoch and sequence rules; throws the refusals */
function judge(meta: DsMeta, p: ProducerHeaders): Verdict {
  const state = meta.producers?.[p.id];
  if (!state) {
    if (p.seq !== 0) throw gap(0, p.seq);
    return { kind: 'accept' };
  }
  if (p.epoch < state.epoch)
    throw new DsProblem(403, 'stale producer epoch: a newer epoch of this producer has written', {
      'producer-epoch': String(state.epoch),
    });
  if (p.epoch > state.epoch) {
    if (p.seq !== 0) throw new DsProblem(400, 'a new producer epoch starts at Producer-Seq 0');
    return { kind: 'accept' };
  }
  if (p.seq <= state.seq) return { kind: 'duplicate', lastSeq: state.seq };
  if (p.seq === state.seq + 1) return { kind: 'accept' };
  throw gap(state.seq + 1, p.seq);
}

function gap(expected: number, received: number): DsProblem {
  return new DsProblem(409, `producer sequence gap: expected ${expected}, received ${received}`, {
    'producer-expected-seq': String(expected),
    'producer-received-seq': String(received),
  });
}

async function tailOffset(ctx: DsContext, name: string): Promise<string> {
  return offsetOf((await ctx.services.store.events.stats(name)).lastSeq);
}

async function closedConflict(ctx: DsContext, name: string): Promise<DsProblem> {
  return new DsProblem(409, 'the stream is closed', {
    'stream-closed': 'true',
    'stream-next-offset': await tailOffset(ctx, name),
  });
}

function sameTuple(meta: DsMeta, p: ProducerHeaders | null): boolean {
  const by = meta.closedBy;
  return p !== null && by !== undefined && by.id === p.id && by.epoch === p.epoch && by.seq === p.seq;
}

/** the messages of a body, flattened one level in JSON mode */
export function messagesOf(meta: DsMeta, body: Buffer, maxJsonDepth: number, creating: boolean): JsonValue[] | Buffer {
  if (!isJsonMode(meta)) return body;
  let parsed: unknown;
  try {
    parsed = parseJsonBody(body, maxJsonDepth);
  } catch (err) {
    throw new DsProblem(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
  const messages = Array.isArray(parsed) ? (parsed as JsonValue[]) : [parsed as JsonValue];
  if (messages.length === 0 && !creating) throw new DsProblem(400, 'an empty JSON array appends nothing');
  return messages;
}

export async function append(ctx: DsContext, req: AppendRequest): Promise<Answer> {
  const producer = producerHeaders(req.headers);
  const close = header(req.headers, 'stream-closed') === 'true';
  const streamSeq = header(req.headers, 'stream-seq');
  const opened = await ctx.open(req.name, req.principal);
  ctx.access.touch(req.name, ctx.nowMs(), opened.meta);
  if (req.body.length === 0 && !close) throw new DsProblem(400, 'the body is empty: an append needs at least one byte');
  let payload: JsonValue[] | Buffer | null = null;
  if (req.body.length > 0) {
    const contentType = header(req.headers, 'content-type');
    if (!contentType || mediaType(contentType) === '')
      throw new DsProblem(400, 'Content-Type is required on an append');
    if (mediaType(contentType) !== mediaType(opened.meta.contentType)) {
      throw new DsProblem(409, `the stream's content type is ${opened.meta.contentType}, not ${contentType}`);
    }
    payload = messagesOf(opened.meta, req.body, req.maxJsonDepth, false);
  }
  if (!producer && !close && streamSeq === undefined) return plainAppend(ctx, req, opened, payload!);
  return ctx.serial(req.name, () => statefulAppend(ctx, req, producer, close, streamSeq, payload));
}

function eventsOf(
  ctx: DsContext,
  req: AppendRequest,
  meta: DsMeta,
  payload: JsonValue[] | Buffer,
  producer: ProducerHeaders | null,
) {
  const origin: EventOrigin = {
    path: req.path,
    producer: producer ? producer.id : req.principal ? `key:${req.principal.key.id}` : null,
    nowIso: ctx.services.clock.now().toISOString(),
    ids: producer ? (i) => `dsp:${producer.epoch}:${producer.seq}:${i}:${producer.id}` : undefined,
  };
  return Buffer.isBuffer(payload) ? [bytesEvent(payload, meta.contentType, origin)] : messageEvents(payload, origin);
}

async function plainAppend(
  ctx: DsContext,
  req: AppendRequest,
  opened: OpenStream,
  payload: JsonValue[] | Buffer,
): Promise<Answer> {
  if (opened.meta.closed) throw await closedConflict(ctx, req.name);
  const result = await ctx.services.produce.produce({
    stream: req.name,
    events: eventsOf(ctx, req, opened.meta, payload, null),
    producer: null,
    record: opened.record,
  });
  return { status: 204, headers: { 'stream-next-offset': offsetOf(endSeqOf(result.events)) } };
}

async function statefulAppend(
  ctx: DsContext,
  req: AppendRequest,
  producer: ProducerHeaders | null,
  close: boolean,
  streamSeq: string | undefined,
  payload: JsonValue[] | Buffer | null,
): Promise<Answer> {
  // read again inside the lock: an earlier request may have changed the state
  const { meta, record } = await ctx.open(req.name, req.principal);
  const verdict = producer ? judge(meta, producer) : null;
  const producerAnswer = (seq: number): Record<string, string> =>
    producer ? { 'producer-epoch': String(producer.epoch), 'producer-seq': String(seq) } : {};
  if (meta.closed) {
    if (sameTuple(meta, producer) || (verdict?.kind === 'duplicate' && meta.closedBy?.id === producer?.id)) {
      return {
        status: 204,
        headers: {
          'stream-next-offset': await tailOffset(ctx, req.name),
          'stream-closed': 'true',
          ...producerAnswer(meta.producers?.[producer!.id]?.seq ?? producer!.seq),
        },
      };
    }
    if (payload === null && !producer)
      return {
        status: 204,
        headers: { 'stream-next-offset': await tailOffset(ctx, req.name), 'stream-closed': 'true' },
      };
    throw await closedConflict(ctx, req.name);
  }
  if (verdict?.kind === 'duplicate') {
    return {
      status: 204,
      headers: { 'stream-next-offset': await tailOffset(ctx, req.name), ...producerAnswer(verdict.lastSeq) },
    };
  }
  if (streamSeq !== undefined && meta.streamSeq !== undefined && streamSeq <= meta.streamSeq) {
    throw new DsProblem(409, `Stream-Seq "${streamSeq.slice(0, 64)}" is not after the last one accepted`);
  }
  let lastSeq: number | null = null;
  if (payload !== null) {
    const result = await ctx.services.produce.produce({
      stream: req.name,
      events: eventsOf(ctx, req, meta, payload, producer),
      producer: producer?.id ?? null,
      record,
    });
    lastSeq = endSeqOf(result.events);
  }
  await ctx.updateMeta(req.name, (m) => {
    const next: DsMeta = { ...m };
    if (producer) {
      const now = ctx.nowMs();
      const kept = Object.entries(m.producers ?? {}).filter(
        ([, s]) => s.at === undefined || now - s.at < PRODUCER_STATE_TTL_MS,
      );
      const old = m.producers?.[producer.id];
      // another process may have recorded a later request meanwhile: state only moves forward
      const ahead =
        old !== undefined && (old.epoch > producer.epoch || (old.epoch === producer.epoch && old.seq > producer.seq));
      next.producers = {
        ...Object.fromEntries(kept),
        [producer.id]: ahead ? old : { epoch: producer.epoch, seq: producer.seq, at: now },
      };
    }
    if (streamSeq !== undefined && (m.streamSeq === undefined || streamSeq > m.streamSeq)) next.streamSeq = streamSeq;
    if (close) {
      next.closed = true;
      if (producer) next.closedBy = { id: producer.id, epoch: producer.epoch, seq: producer.seq };
    }
    return next;
  });
  if (close) ctx.tail.poke(req.name);
  const offset = lastSeq !== null ? offsetOf(lastSeq) : await tailOffset(ctx, req.name);
  const headers: Record<string, string> = { 'stream-next-offset': offset, ...producerAnswer(producer?.seq ?? 0) };
  if (close) headers['stream-closed'] = 'true';
  return { status: producer && payload !== null ? 200 : 204, headers };
}
