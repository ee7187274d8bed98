/**
 * Reading with a content filter (`filter=` on the read API): the same JSONata condition a
 * sink's filter holds, evaluated by the same evaluator (src/mapping/event-filter.ts) over the
 * stored envelope.
 *
 * A filter that matches rarely would otherwise scan a whole stream for one page, so a page
 * scans at most `scanLimit` events; the cursor then resumes after the last event scanned,
 * and a page may come back short (even empty) with a `next`.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import { compileEventFilter, type CompiledEventFilter } from '../../mapping/event-filter.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import type { ReadRequest } from './read-events.js';

/** events scanned for one page at most */
export const SCAN_LIMIT = 10_000;
/** events read from the store at a time while scanning */
const CHUNK = 500;
/** evaluations between turns of the event loop, so a long scan never holds it */
const YIELD_EVERY = 200;

export interface ScanState {
  /** the last seq scanned (matched or not) */
  lastSeq: number;
  /** true when the scan stopped before the end of what the query covers */
  more: boolean;
}

/** Compiles `filter=`; an invalid expression is a 400 naming the parameter. */
export function compileReadFilter(source: string): CompiledEventFilter {
  try {
    return compileEventFilter({ condition: source }, { pointer: '/filter' });
  } catch (err) {
    if (!isRivuletError(err)) throw err;
    const message = err.message.replace(/^\/filter\/condition: /, '');
    throw new RivuletError(err.code, `query parameter "filter": ${message}`, {
      details: { ...err.details, in: 'querystring', pointer: '/filter', parameter: 'filter' },
    });
  }
}

/**
 * The events of one page that pass `filter`, reading pages of `read` after one another;
 * `scan` says where the scan stopped once the iteration ends.
 */
export async function* searchEvents(
  read: (request: ReadRequest) => AsyncIterable<StoredEvent>,
  request: ReadRequest,
  filter: CompiledEventFilter,
  scan: ScanState,
  scanLimit = SCAN_LIMIT,
): AsyncIterable<StoredEvent> {
  let matched = 0;
  let scanned = 0;
  scan.lastSeq = request.afterSeq ?? 0;
  scan.more = false;
  for (;;) {
    const chunk = Math.min(CHUNK, scanLimit - scanned);
    let got = 0;
    for await (const event of read({ ...request, afterSeq: scan.lastSeq, limit: chunk })) {
      got++;
      scanned++;
      scan.lastSeq = event.seq;
      if (await filter.matches(event)) {
        matched++;
        yield event;
        if (matched >= request.limit) {
          scan.more = true;
          return;
        }
      }
      if (scanned % YIELD_EVERY === 0) await yieldToLoop();
    }
    if (got < chunk) return;
    if (scanned >= scanLimit) {
      scan.more = true;
      return;
    }
  }
}
