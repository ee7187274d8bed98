/**
 * GET: catch-up reads, long-poll and SSE. A read answers the events after the offset, in
 * pages bounded by count and bytes; the next offset is the last event's seq.
 */
import type { ServerResponse } from 'node:http';
import type { StoredEvent } from '../../kernel/envelope.js';
import type { Principal } from '../../core/keys/key-service.js';
import { DsProblem, type DsContext, type OpenStream } from './ds-context.js';
import { bytesOf, messageText } from './ds-events.js';
import { isJsonMode, isTextual, type DsMeta } from './ds-meta.js';
import { offsetOf, parseOffset, responseCursor, type OffsetParam } from './ds-offsets.js';
import type { TailWatch } from './ds-tail.js';

const PAGE_EVENTS = 10_000;
/** how often an idle SSE connection gets a control event */
const SSE_KEEPALIVE_MS = 15_000;

export interface ReadRequest {
  name: string;
  principal: Principal | null;
  /** every value of `offset` in the query */
  offsets: string[];
  live: string | undefined;
  cursor: string | undefined;
  ifNoneMatch: string | undefined;
}

export interface ReadAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

function offsetParam(offsets: string[]): OffsetParam | null {
  if (offsets.length === 0) return null;
  if (offsets.length > 1) throw new DsProblem(400, 'send one offset');
  const parsed = parseOffset(offsets[0]!);
  if (!parsed)
    throw new DsProblem(
      400,
      `"${offsets[0]!.slice(0, 64)}" is not an offset: use -1, now, or a Stream-Next-Offset this server answered`,
    );
  return parsed;
}

interface Page {
  /** how many events the page holds */
  count: number;
  /** the rendered body of a catch-up answer */
  body: Buffer;
  /** seq the page ends at (the start position when empty) */
  endSeq: number;
  upToDate: boolean;
  /** as many events or bytes as a page holds: its content is settled */
  full: boolean;
}

/** how a page is filled: one event's seq and bytes at a time; false once the page is full */
type Take = (seq: number, part: Buffer) => boolean;

async function readPage(ctx: DsContext, name: string, meta: DsMeta, afterSeq: number): Promise<Page> {
  const json = isJsonMode(meta);
  const maxBytes = ctx.options.maxReadBytes;
  const events = ctx.services.store.events;
  if (json && events.readData) {
    // the store joins the messages' text itself: a message is its event's data
    const data = await events.readData(name, { afterSeq, limit: PAGE_EVENTS }, maxBytes);
    // each message counted with its separator, as `take` counts them
    const bytes = data.count === 0 ? 0 : data.bytes.length + 1;
    return {
      count: data.count,
      body: Buffer.concat([OPEN, data.bytes, CLOSE]),
      endSeq: data.count === 0 ? afterSeq : data.lastSeq,
      upToDate: !data.more,
      full: data.count === PAGE_EVENTS || bytes >= maxBytes,
    };
  }
  // the events themselves say where the stream ends (a store's stats may trail its log): one
  // event past a full page tells whether the page reaches the tail
  const parts: Buffer[] = [];
  let bytes = 0;
  let more = false;
  let endSeq = afterSeq;
  const take: Take = (seq, part) => {
    if (parts.length === PAGE_EVENTS || bytes >= maxBytes) {
      more = true;
      return false;
    }
    parts.push(part);
    bytes += part.length + 1;
    endSeq = seq;
    return true;
  };
  await takeEvents(events.read(name, { afterSeq, limit: PAGE_EVENTS + 1 }), json, take);
  const body = json
    ? Buffer.concat([OPEN, ...parts.flatMap((p, i) => (i === 0 ? [p] : [COMMA, p])), CLOSE])
    : Buffer.concat(parts);
  return {
    count: parts.length,
    body,
    endSeq,
    upToDate: !more,
    full: parts.length === PAGE_EVENTS || bytes >= maxBytes,
  };
}

async function takeEvents(events: AsyncIterable<StoredEvent>, json: boolean, take: Take): Promise<void> {
  let n = 0;
  for await (const e of events) {
    if (!take(e.seq, json ? Buffer.from(messageText(e)) : bytesOf(e))) return;
    // a long page lets other requests run between slices
    if (++n % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

const COMMA = Buffer.from(',');
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

/**
 * A catch-up page: from the page cache when an earlier reader rendered it, else from the store.
 * `knownLastSeq` is a last seq the store reported during this request: when it is past a
 * cached page, more follows without asking the log.
 */
async function catchUpPage(
  ctx: DsContext,
  opened: OpenStream,
  afterSeq: number,
  knownLastSeq = -1,
): Promise<Omit<Page, 'count' | 'full'>> {
  const name = opened.record.name;
  const cached = ctx.pages.get(name, opened.record.createdAt, afterSeq);
  if (cached) {
    // a store's stats may trail its log, never run ahead of it: only "more follows" is taken from them
    let next = knownLastSeq > cached.endSeq;
    if (!next)
      for await (const e of ctx.services.store.events.read(name, { afterSeq: cached.endSeq, limit: 1 }))
        next = e.seq > cached.endSeq;
    return { body: cached.body, endSeq: cached.endSeq, upToDate: !next };
  }
  const page = await readPage(ctx, name, opened.meta, afterSeq);
  // a full page never changes: only whether more follows it does
  if (page.full) ctx.pages.set(name, opened.record.createdAt, afterSeq, { body: page.body, endSeq: page.endSeq });
  return page;
}

/** where a read starts (410 when the offset is before what retention kept), and the last seq seen */
async function startSeq(ctx: DsContext, name: string, offset: OffsetParam): Promise<{ from: number; lastSeq: number }> {
  const stats = await ctx.services.store.events.stats(name);
  const at = (from: number) => ({ from, lastSeq: stats.count > 0 ? stats.lastSeq : -1 });
  if (offset.at === 'now') return at(stats.lastSeq);
  if (offset.at === 'start') return at(Math.max(0, stats.firstSeq - 1));
  if (offset.seq + 1 < stats.firstSeq)
    throw new DsProblem(410, 'the offset is before the oldest retained data: read again from -1');
  return at(Math.min(offset.seq, stats.lastSeq));
}

function etagOf(name: string, start: string, end: string, closed: boolean): string {
  return `"${Buffer.from(name).toString('base64url')}:${start}:${end}${closed ? ':c' : ''}"`;
}

export async function read(ctx: DsContext, req: ReadRequest): Promise<ReadAnswer> {
  const offset = offsetParam(req.offsets);
  if (req.live !== undefined && req.live !== 'long-poll' && req.live !== 'sse')
    throw new DsProblem(400, 'live is long-poll or sse');
  if (req.live !== undefined && offset === null) throw new DsProblem(400, `live=${req.live} needs an offset`);
  // a long-poll watches from before it reads anything, so an append or a close that lands
  // while it reads ends its wait instead of being missed
  const watch = req.live === 'long-poll' ? ctx.tail.arm(req.name) : null;
  try {
    return await answerRead(ctx, req, offset, watch);
  } finally {
    watch?.cancel();
  }
}

async function answerRead(
  ctx: DsContext,
  req: ReadRequest,
  offset: OffsetParam | null,
  watch: TailWatch | null,
): Promise<ReadAnswer> {
  const opened = await ctx.open(req.name, req.principal);
  ctx.access.touch(req.name, ctx.nowMs(), opened.meta);
  const { meta } = opened;
  const contentType = meta.contentType;
  if (offset?.at === 'now' && req.live === undefined) {
    const tail = offsetOf((await ctx.services.store.events.stats(req.name)).lastSeq);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'stream-next-offset': tail,
      'stream-up-to-date': 'true',
      'cache-control': 'no-store',
    };
    if (meta.closed) headers['stream-closed'] = 'true';
    return { status: 200, headers, body: Buffer.from(isJsonMode(meta) ? '[]' : '') };
  }
  const { from, lastSeq } = await startSeq(ctx, req.name, offset ?? { at: 'start' });
  let page = await catchUpPage(ctx, opened, from, lastSeq);
  let state = opened;
  if (watch && page.endSeq === from) {
    if (!meta.closed) {
      await watch.wait(from, ctx.options.longPollTimeoutMs);
      // the state is read before the events: a close seen here came after its final append
      watch.stateRead();
      state = await ctx.open(req.name, req.principal);
      ctx.access.touch(req.name, ctx.nowMs(), state.meta);
      page = await catchUpPage(ctx, state, from);
    }
    if (page.endSeq === from) {
      const headers: Record<string, string> = {
        'stream-next-offset': offsetOf(page.endSeq),
        'stream-up-to-date': 'true',
      };
      if (state.meta.closed) headers['stream-closed'] = 'true';
      else headers['stream-cursor'] = responseCursor(req.cursor, ctx.nowMs());
      return { status: 204, headers };
    }
  }
  const end = offsetOf(page.endSeq);
  const closedAtTail = (state.meta.closed ?? false) && page.upToDate;
  const headers: Record<string, string> = { 'content-type': contentType, 'stream-next-offset': end };
  if (page.upToDate) headers['stream-up-to-date'] = 'true';
  if (closedAtTail) headers['stream-closed'] = 'true';
  if (req.live === 'long-poll') headers['stream-cursor'] = responseCursor(req.cursor, ctx.nowMs());
  // history is immutable, so a full page before the tail may be cached; the tail may not
  headers['cache-control'] = page.upToDate ? 'no-store' : 'private, max-age=60, stale-while-revalidate=300';
  const etag = etagOf(req.name, req.offsets[0] ?? '-1', end, closedAtTail);
  headers.etag = etag;
  if (req.ifNoneMatch !== undefined && req.ifNoneMatch === etag) return { status: 304, headers: { etag } };
  return { status: 200, headers, body: page.body };
}

/** the SSE framing of a payload: one `data:` line per line, so no payload can end an event early */
function sseData(payload: string): string {
  return (
    payload
      .split(/\r\n|\r|\n/)
      .map((line) => `data:${line}`)
      .join('\n') + '\n\n'
  );
}

/** a page as one SSE data event: its body is the messages' JSON array, or their bytes one after another */
function dataEvent(meta: DsMeta, body: Buffer): string {
  const payload = isJsonMode(meta) || isTextual(meta) ? body.toString('utf8') : body.toString('base64');
  return `event: data\n${sseData(payload)}`;
}

function controlEvent(fields: Record<string, string | boolean>): string {
  return `event: control\n${sseData(JSON.stringify(fields))}`;
}

/** checks an SSE request; the caller then hands the raw response to `followSse` */
export async function openSse(
  ctx: DsContext,
  req: ReadRequest,
): Promise<{ opened: OpenStream; from: number; headers: Record<string, string> }> {
  const offset = offsetParam(req.offsets);
  if (offset === null) throw new DsProblem(400, 'live=sse needs an offset');
  const opened = await ctx.open(req.name, req.principal);
  ctx.access.touch(req.name, ctx.nowMs(), opened.meta);
  const { from } = await startSeq(ctx, req.name, offset);
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  };
  if (!isTextual(opened.meta)) headers['stream-sse-data-encoding'] = 'base64';
  return { opened, from, headers };
}

export async function followSse(
  ctx: DsContext,
  req: ReadRequest,
  from: number,
  opened: OpenStream,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  // watched from before the first read: an append or a close that lands while a page is read
  // (reads may run on another thread) ends the next wait instead of being missed
  const watch = ctx.tail.arm(req.name);
  try {
    await follow(ctx, req, from, opened, res, signal, watch);
  } finally {
    watch.cancel();
  }
}

async function follow(
  ctx: DsContext,
  req: ReadRequest,
  from: number,
  opened: OpenStream,
  res: ServerResponse,
  signal: AbortSignal,
  watch: TailWatch,
): Promise<void> {
  const deadline = ctx.nowMs() + ctx.options.sseMaxMs;
  let position = from;
  let meta = opened.meta;
  const write = (text: string) => !res.destroyed && res.write(text);
  // the state opened before the watch was armed: read it again, so a close in between is seen
  let stale = true;
  while (!signal.aborted && !res.destroyed) {
    if (stale) {
      // the state first, then the events: a close seen here came after its final append, so
      // the page read next holds that append
      watch.stateRead();
      const now = await ctx.find(req.name, req.principal);
      if (!now || now.meta.deleted) return;
      meta = now.meta;
      ctx.access.touch(req.name, ctx.nowMs(), meta);
      stale = false;
    }
    const page = await readPage(ctx, req.name, meta, position);
    if (page.count > 0) {
      write(dataEvent(meta, page.body));
      position = page.endSeq;
    }
    const control: Record<string, string | boolean> = { streamNextOffset: offsetOf(position) };
    if (meta.closed && page.upToDate) {
      control.streamClosed = true;
      write(controlEvent(control));
      return;
    }
    control.streamCursor = responseCursor(req.cursor, ctx.nowMs());
    if (page.upToDate) control.upToDate = true;
    write(controlEvent(control));
    if (!page.upToDate) continue;
    const left = deadline - ctx.nowMs();
    if (left <= 0) return;
    // a quiet wait ends in a keep-alive control event at the top of the loop
    await watch.wait(position, Math.min(SSE_KEEPALIVE_MS, left), signal);
    if (signal.aborted) return;
    stale = true;
  }
}
