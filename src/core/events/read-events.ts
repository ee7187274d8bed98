/**
 * Reading a stream: bounded pages in seq order, with an opaque cursor for the next page.
 * The cursor carries the query, so a client only passes it back.
 */
import { RivuletError } from '../../kernel/errors.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import { eventJson } from '../../kernel/event-json.js';
import type { EventJsonSlice, ReadQuery, Store } from '../../store/port.js';

export interface ReadRequest {
  afterSeq?: number;
  fromTimeMs?: number;
  toTimeMs?: number;
  types?: string[];
  /** a content filter (JSONata condition over the envelope), evaluated by the route's search */
  filter?: string;
  limit: number;
}

interface CursorState {
  a: number;
  f?: number;
  t?: number;
  y?: string[];
  x?: string;
}

export function encodeCursor(query: ReadRequest, lastSeq: number): string {
  const state: CursorState = { a: lastSeq };
  if (query.fromTimeMs !== undefined) state.f = query.fromTimeMs;
  if (query.toTimeMs !== undefined) state.t = query.toTimeMs;
  if (query.types && query.types.length > 0) state.y = query.types;
  if (query.filter !== undefined) state.x = query.filter;
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

export function decodeCursor(cursor: string): Omit<ReadRequest, 'limit'> {
  try {
    const state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorState;
    if (!Number.isSafeInteger(state.a) || state.a < 0) throw new Error('bad position');
    // a cursor is client-held text: its times reach the store only as whole numbers
    for (const ms of [state.f, state.t]) if (ms !== undefined && !Number.isSafeInteger(ms)) throw new Error('bad time');
    if (state.y !== undefined && (!Array.isArray(state.y) || !state.y.every((t) => typeof t === 'string')))
      throw new Error('bad types');
    if (state.x !== undefined && typeof state.x !== 'string') throw new Error('bad filter');
    return {
      afterSeq: state.a,
      fromTimeMs: state.f,
      toTimeMs: state.t,
      types: state.y,
      ...(state.x === undefined ? {} : { filter: state.x }),
    };
  } catch {
    throw new RivuletError('INVALID_CURSOR', 'the cursor is not one this server issued; start again without it', {
      details: { pointer: '/query/cursor' },
    });
  }
}

/** events per slice when the text is rendered here rather than by the store */
const RENDERED_SLICE = 256;

export class ReadService {
  constructor(private readonly store: Store) {}

  /** the events of one page; the caller asks `nextCursor` with the last seq it saw */
  async *read(stream: string, request: ReadRequest): AsyncIterable<StoredEvent> {
    yield* this.store.events.read(stream, this.queryOf(request));
  }

  /**
   * The same events as the native API's JSON text, in slices. A store that keeps each event's
   * JSON (`eventJson`) builds the text where it reads; otherwise it is rendered here, with the
   * same renderer, so the bytes are the same either way.
   */
  async *readJson(stream: string, request: ReadRequest): AsyncIterable<EventJsonSlice> {
    const query = this.queryOf(request);
    if (this.store.capabilities.eventJson && this.store.events.readJson) {
      yield* this.store.events.readJson(stream, query);
      return;
    }
    let text = '';
    let count = 0;
    let lastSeq = 0;
    for await (const e of this.store.events.read(stream, query)) {
      text += (count++ === 0 ? '' : ',') + eventJson(e);
      lastSeq = e.seq;
      if (count === RENDERED_SLICE) {
        yield { bytes: Buffer.from(text), count, lastSeq };
        text = '';
        count = 0;
      }
    }
    if (count > 0) yield { bytes: Buffer.from(text), count, lastSeq };
  }

  private queryOf(request: ReadRequest): ReadQuery {
    return {
      afterSeq: request.afterSeq,
      fromTimeMs: request.fromTimeMs,
      toTimeMs: request.toTimeMs,
      types: request.types,
      limit: request.limit,
    };
  }

  async get(stream: string, id: string): Promise<StoredEvent> {
    const event = await this.store.events.getById(stream, id);
    if (!event)
      throw new RivuletError('EVENT_NOT_FOUND', `stream "${stream}" has no event with id "${id}"`, {
        details: { stream, id },
      });
    return event;
  }
}
