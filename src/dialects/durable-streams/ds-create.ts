/**
 * PUT: create a stream (or confirm one with the same settings), optionally with a first
 * body, closed, or as a fork. A fork is a stream of its own whose first events are copies of
 * the source's events up to the fork offset, at the same seqs (so the source's offsets read
 * the same data on the fork); a sub-offset copies part of the next append too. The source
 * counts its forks: deleted while forks remain, it is only marked deleted (410) and goes when
 * its last fork goes.
 */
import type { JsonValue, NewEvent, StoredEvent } from '../../kernel/envelope.js';
import { isRivuletError } from '../../kernel/errors.js';
import { ANONYMOUS_OWNER, DsProblem, type DsContext } from './ds-context.js';
import { BATCH_FIELD, bytesEvent, bytesOf, copyOf, messageEvents, type EventOrigin } from './ds-events.js';
import { header, messagesOf, type Answer, type AppendRequest } from './ds-append.js';
import { isJsonMode, mediaType, META_KEY, type DsMeta } from './ds-meta.js';
import { endSeqOf, offsetOf, parseOffset } from './ds-offsets.js';
import { streamOfPath } from './ds-names.js';

const TTL = /^(0|[1-9]\d{0,15})$/;
const SUB_OFFSET = /^(0|[1-9]\d{0,15})$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const COPY_BATCH = 1000;

interface CreateSettings {
  contentType: string | undefined;
  ttlSeconds?: number;
  expiresAt?: string;
  closed: boolean;
  fork?: { from: string; offset?: string; subOffset: number };
}

function settingsOf(h: AppendRequest['headers']): CreateSettings {
  const raw = header(h, 'content-type');
  const contentType = raw && /^[\w.+-]+\/[\w.+-]+/.test(raw.trim()) ? raw.trim() : undefined;
  const ttl = header(h, 'stream-ttl');
  const expiresAt = header(h, 'stream-expires-at');
  if (ttl !== undefined && expiresAt !== undefined)
    throw new DsProblem(400, 'send Stream-TTL or Stream-Expires-At, not both');
  const settings: CreateSettings = { contentType, closed: header(h, 'stream-closed') === 'true' };
  if (ttl !== undefined) {
    if (!TTL.test(ttl)) throw new DsProblem(400, 'Stream-TTL must be a whole number of seconds in plain digits');
    settings.ttlSeconds = Number(ttl);
  }
  if (expiresAt !== undefined) {
    if (!RFC3339.test(expiresAt) || !Number.isFinite(Date.parse(expiresAt)))
      throw new DsProblem(400, 'Stream-Expires-At must be an RFC 3339 timestamp');
    settings.expiresAt = expiresAt;
  }
  const from = header(h, 'stream-forked-from');
  const offset = header(h, 'stream-fork-offset');
  const sub = header(h, 'stream-fork-sub-offset');
  if (sub !== undefined && from === undefined)
    throw new DsProblem(400, 'Stream-Fork-Sub-Offset needs Stream-Forked-From');
  if (from !== undefined) {
    if (offset !== undefined && parseOffset(offset)?.at !== 'after')
      throw new DsProblem(400, 'Stream-Fork-Offset is not an offset of this server');
    if (sub !== undefined && !SUB_OFFSET.test(sub))
      throw new DsProblem(400, 'Stream-Fork-Sub-Offset must be a non-negative integer in plain digits');
    const subOffset = sub === undefined ? 0 : Number(sub);
    if (subOffset > 0 && offset === undefined)
      throw new DsProblem(400, 'Stream-Fork-Sub-Offset needs Stream-Fork-Offset');
    settings.fork = { from, offset, subOffset };
  }
  return settings;
}

function sameSettings(meta: DsMeta, s: CreateSettings): boolean {
  const type = (t: string | undefined) => mediaType(t) || 'application/octet-stream';
  if (s.contentType !== undefined || !s.fork) {
    if (type(s.contentType) !== type(meta.contentType)) return false;
  }
  if (!s.fork) {
    if (s.ttlSeconds !== meta.ttlSeconds || s.expiresAt !== meta.expiresAt) return false;
  } else {
    if (s.ttlSeconds !== undefined && s.ttlSeconds !== meta.ttlSeconds) return false;
    if (s.expiresAt !== undefined && s.expiresAt !== meta.expiresAt) return false;
    if (s.fork.from !== meta.forkedFrom) return false;
    if (s.fork.offset !== undefined && s.fork.offset !== meta.forkOffset) return false;
    if (s.fork.subOffset !== (meta.forkSubOffset ?? 0)) return false;
  }
  if (meta.forkedFrom !== undefined && !s.fork) return false;
  return s.closed === (meta.closed ?? false);
}

export async function create(ctx: DsContext, req: AppendRequest): Promise<Answer & { created: boolean }> {
  const settings = settingsOf(req.headers);
  const existing = await ctx.find(req.name, req.principal);
  if (existing) {
    if (existing.meta.deleted)
      throw new DsProblem(
        409,
        'the stream was deleted but forks of it remain: the path cannot be reused until they are deleted',
      );
    if (!sameSettings(existing.meta, settings))
      throw new DsProblem(409, 'the stream exists with other settings (content type, TTL, expiry, closure or fork)');
    ctx.access.touch(req.name, ctx.nowMs(), existing.meta);
    const headers: Record<string, string> = {
      'content-type': existing.meta.contentType,
      'stream-next-offset': offsetOf((await ctx.services.store.events.stats(req.name)).lastSeq),
    };
    if (existing.meta.closed) headers['stream-closed'] = 'true';
    return { status: 200, headers, created: false };
  }
  return ctx.serial(req.name, () => createNew(ctx, req, settings));
}

async function createNew(
  ctx: DsContext,
  req: AppendRequest,
  s: CreateSettings,
): Promise<Answer & { created: boolean }> {
  const meta: DsMeta = { contentType: s.contentType ?? 'application/octet-stream' };
  const copies: NewEvent[][] = [];
  let parentName: string | null = null;
  if (s.fork) {
    const parent = streamOfPath(s.fork.from.replace(/^\/+/, ''));
    if ('problem' in parent) throw new DsProblem(400, `Stream-Forked-From: ${parent.problem}`);
    parentName = parent.name;
    const source = await ctx.find(parent.name, req.principal);
    if (!source) throw new DsProblem(404, 'the stream to fork does not exist');
    if (source.meta.deleted) throw new DsProblem(409, 'the stream to fork was deleted');
    if (s.contentType !== undefined && mediaType(s.contentType) !== mediaType(source.meta.contentType)) {
      throw new DsProblem(409, `a fork keeps its source's content type (${source.meta.contentType})`);
    }
    meta.contentType = source.meta.contentType;
    const sourceLast = (await ctx.services.store.events.stats(parent.name)).lastSeq;
    const at = s.fork.offset === undefined ? sourceLast : (parseOffset(s.fork.offset) as { seq: number }).seq;
    if (at > sourceLast) throw new DsProblem(400, 'Stream-Fork-Offset is past the end of the source stream');
    meta.forkedFrom = s.fork.from;
    meta.forkOffset = offsetOf(at);
    if (s.ttlSeconds === undefined && s.expiresAt === undefined) {
      if (source.meta.ttlSeconds !== undefined) meta.ttlSeconds = source.meta.ttlSeconds;
      else if (source.meta.expiresAt !== undefined) meta.expiresAt = source.meta.expiresAt;
    }
    copies.push(...(await inherited(ctx, parent.name, at)));
    if (s.fork.subOffset > 0) {
      copies.push(await partOfNext(ctx, parent.name, at, s.fork.subOffset, source.meta, req));
      meta.forkSubOffset = s.fork.subOffset;
    }
  }
  if (s.ttlSeconds !== undefined) meta.ttlSeconds = s.ttlSeconds;
  if (s.expiresAt !== undefined) meta.expiresAt = s.expiresAt;
  let initial: NewEvent[] = [];
  if (req.body.length > 0) {
    const payload = messagesOf(meta, req.body, req.maxJsonDepth, true);
    const origin: EventOrigin = {
      path: req.path,
      producer: req.principal ? `key:${req.principal.key.id}` : null,
      nowIso: ctx.services.clock.now().toISOString(),
    };
    initial = Buffer.isBuffer(payload)
      ? [bytesEvent(payload, meta.contentType, origin)]
      : messageEvents(payload as JsonValue[], origin);
  }
  if (parentName) {
    // counted before the fork exists, so a source deleted meanwhile is only marked deleted
    await ctx.updateMeta(parentName, (m) => ({ ...m, forks: (m.forks ?? 0) + 1 }));
  }
  // a fork starts open, whatever its source; closing is written after the first data
  const settled: DsMeta = { ...meta };
  if (s.closed) settled.closed = true;
  try {
    await ctx.services.streams.createManaged(
      {
        name: req.name,
        description: `Durable Streams stream /${req.path}`,
        options: { [META_KEY]: (copies.length + initial.length > 0 ? meta : settled) as never },
      },
      req.principal?.owner ?? ANONYMOUS_OWNER,
    );
  } catch (err) {
    if (parentName) await ctx.updateMeta(parentName, (m) => ({ ...m, forks: Math.max(0, (m.forks ?? 0) - 1) }));
    // made meanwhile by another request (or process): answered as a PUT that found it
    if (isRivuletError(err) && err.code === 'STREAM_EXISTS' && (await ctx.find(req.name, req.principal)))
      return create(ctx, req);
    throw err;
  }
  ctx.access.touch(req.name, ctx.nowMs(), meta);
  let lastSeq = 0;
  for (const batch of [...copies, ...chunks(initial)]) {
    if (batch.length === 0) continue;
    const result = await ctx.services.produce.produce({ stream: req.name, events: batch, producer: null });
    lastSeq = endSeqOf(result.events);
  }
  if (s.closed && copies.length + initial.length > 0) await ctx.updateMeta(req.name, (m) => ({ ...m, closed: true }));
  const headers: Record<string, string> = {
    'content-type': meta.contentType,
    'stream-next-offset': offsetOf(lastSeq),
    location: `${req.base}/${req.path}`,
  };
  if (s.closed) headers['stream-closed'] = 'true';
  return { status: 201, headers, created: true };
}

function chunks(events: NewEvent[]): NewEvent[][] {
  const out: NewEvent[][] = [];
  for (let i = 0; i < events.length; i += COPY_BATCH) out.push(events.slice(i, i + COPY_BATCH));
  return out;
}

async function inherited(ctx: DsContext, source: string, upTo: number): Promise<NewEvent[][]> {
  const batches: NewEvent[][] = [];
  let after = 0;
  while (after < upTo) {
    const page: StoredEvent[] = [];
    for await (const e of ctx.services.store.events.read(source, {
      afterSeq: after,
      limit: Math.min(COPY_BATCH, upTo - after),
    }))
      page.push(e);
    if (page.length === 0) break;
    batches.push(page.filter((e) => e.seq <= upTo).map(copyOf));
    after = page[page.length - 1]!.seq;
  }
  return batches;
}

/** the first `sub` bytes (or JSON messages) of the append after `at` */
async function partOfNext(
  ctx: DsContext,
  source: string,
  at: number,
  sub: number,
  meta: DsMeta,
  req: AppendRequest,
): Promise<NewEvent[]> {
  const first = await ctx.services.store.events.getBySeq(source, at + 1);
  if (!first) throw new DsProblem(400, 'Stream-Fork-Sub-Offset reaches past the end of the source stream');
  if (isJsonMode(meta)) {
    const size = typeof first.meta[BATCH_FIELD] === 'number' ? (first.meta[BATCH_FIELD] as number) : 1;
    if (sub > size)
      throw new DsProblem(400, `Stream-Fork-Sub-Offset ${sub} is past the ${size} messages of that append`);
    const events: StoredEvent[] = [];
    for await (const e of ctx.services.store.events.read(source, { afterSeq: at, limit: sub })) events.push(e);
    return events.map((e, i) => {
      const copy = copyOf(e);
      copy.meta = { ...e.meta };
      delete copy.meta[BATCH_FIELD];
      if (i === 0 && sub > 1) copy.meta[BATCH_FIELD] = sub;
      return copy;
    });
  }
  const bytes = bytesOf(first);
  if (sub > bytes.length)
    throw new DsProblem(400, `Stream-Fork-Sub-Offset ${sub} is past the ${bytes.length} bytes of that append`);
  const origin: EventOrigin = { path: req.path, producer: first.producer, nowIso: first.time };
  return [bytesEvent(bytes.subarray(0, sub), meta.contentType, origin)];
}
