/**
 * A page of a nats stream written as bytes: the native API's answers (`json`), the events'
 * data (`data`) or whole answers with where each ends (`texts`), as port.ts's `readJson`,
 * `readData` and `readTexts` describe them. The reader thread writes pages from messages whose
 * fields it splices; the event log, when it runs without a reader thread, from decoded events.
 */
import type { StoredEvent } from '../../kernel/envelope.js';
import { eventJson, eventJsonOfTexts } from '../../kernel/event-json.js';
import type { PageQuery } from '../thread-wire.js';
import type { BodyTexts } from './nats-body-text.js';
import { typeSeqOf, type RawMessage } from './nats-event-codec.js';
import type { NatsReadJob, NatsReadResult } from './nats-reader-wire.js';
import { grow, PageBuffers } from '../page-buffers.js';

/** page buffers kept between pages: as many as pages a reader thread writes at once */
const KEEP_BUFFERS = 4;
/** room left around a JSON page for the native API's frame (as the SQLite reader threads leave) */
const SPARE_BEFORE = 16;
const SPARE_AFTER = 256;

/** the events matching a page's query in seq order, at most its limit plus `extra` */
export type PageSource = (extra: number) => AsyncIterable<PageEvent>;

/** an event of a page, as much of it as the page needs */
export interface PageEvent {
  readonly seq: number;
  readonly type: string;
  time(): string;
  /** the native API's answer */
  json(): string;
  /** its data as JSON text */
  data(): string;
}

/** receive times as the answer writes them; consecutive messages often share a millisecond */
export class ReceivedTimes {
  private ms = Number.NaN;
  private text = '';

  of(ms: number): string {
    if (ms !== this.ms) {
      this.ms = ms;
      this.text = `"${new Date(ms).toISOString()}"`;
    }
    return this.text;
  }
}

/** a message whose body's fields are spliced into the answer */
export class SplicedEvent implements PageEvent {
  readonly seq: number;

  constructor(
    private readonly stream: string,
    private readonly m: RawMessage,
    private readonly t: BodyTexts,
    readonly type: string,
    private readonly received: ReceivedTimes,
  ) {
    this.seq = m.seq;
  }

  time(): string {
    return JSON.parse(this.t.time) as string;
  }

  json(): string {
    const t = this.t;
    return eventJsonOfTexts({
      id: t.id,
      stream: this.stream,
      seq: this.m.seq,
      typeSeq: typeSeqOf(this.m.header),
      type: t.type,
      source: t.source,
      time: t.time,
      received: this.received.of(this.m.receivedMs),
      producer: t.producer,
      dataJson: t.data,
      metaJson: t.meta,
      schemaVersion: t.schemaVersion,
    });
  }

  data(): string {
    return this.t.data;
  }
}

/** a message decoded whole (a body of another shape) */
export class DecodedEvent implements PageEvent {
  readonly seq: number;
  readonly type: string;

  constructor(private readonly e: StoredEvent) {
    this.seq = e.seq;
    this.type = e.type;
  }

  time(): string {
    return this.e.time;
  }

  json(): string {
    return eventJson(this.e);
  }

  data(): string {
    return JSON.stringify(this.e.data) ?? 'null';
  }
}

export class PageWriter {
  /** a page takes a buffer for itself: several pages are written at once, each between its own awaits */
  private readonly buffers = new PageBuffers(KEEP_BUFFERS);

  /** the page a job asks for */
  write(events: PageSource, job: NatsReadJob): Promise<NatsReadResult> {
    switch (job.op) {
      case 'json':
        return this.json(events, job.query);
      case 'data':
        return this.data(events, job.query, job.maxBytes);
      case 'texts':
        return this.texts(events, job.query, job.maxBytes, job.types);
    }
  }

  /**
   * Each answer is written into the page's buffer as it is rendered (a page joined as one string
   * first would be a string of hundreds of KiB, allocated where the collector scans it again);
   * the page moves out with room around it for the API's frame.
   */
  private async json(events: PageSource, q: PageQuery): Promise<NatsReadResult> {
    let out = this.buffers.take();
    let bytes = 0;
    let count = 0;
    let lastEventSeq = q.afterSeq;
    for await (const e of events(0)) {
      const text = e.json();
      if (out.length - bytes < text.length * 3 + 1) out = grow(out, bytes + text.length * 3 + 1);
      if (count > 0) out[bytes++] = 0x2c;
      bytes += out.write(text, bytes);
      count++;
      lastEventSeq = e.seq;
    }
    return {
      op: 'json',
      bytes: this.buffers.handOver(out, bytes, SPARE_BEFORE, SPARE_AFTER),
      spare: { before: SPARE_BEFORE, after: SPARE_AFTER },
      count,
      lastEventSeq,
    };
  }

  /** as the SQLite reader threads' `data`: each event counted with a byte for its separator */
  private async data(events: PageSource, q: PageQuery, maxBytes: number): Promise<NatsReadResult> {
    let out = this.buffers.take();
    let bytes = 0;
    let count = 0;
    let more = false;
    let lastEventSeq = q.afterSeq;
    for await (const e of events(1)) {
      if (count === q.limit || bytes >= maxBytes) {
        more = true;
        break;
      }
      const text = e.data();
      if (out.length - bytes < text.length * 3 + 1) out = grow(out, bytes + text.length * 3 + 1);
      if (count > 0) out[bytes - 1] = 0x2c;
      bytes += out.write(text, bytes) + 1;
      count++;
      lastEventSeq = e.seq;
    }
    return { op: 'data', bytes: this.buffers.handOver(out, Math.max(0, bytes - 1)), count, lastEventSeq, more };
  }

  /** as the SQLite reader threads' `texts`: the events' answers one after another, with where each ends */
  private async texts(events: PageSource, q: PageQuery, maxBytes: number, withTypes: boolean): Promise<NatsReadResult> {
    const ends: number[] = [];
    const seqs: number[] = [];
    const types: string[] | null = withTypes ? [] : null;
    let out = this.buffers.take();
    let bytes = 0;
    let more = false;
    for await (const e of events(1)) {
      if (seqs.length === q.limit || (seqs.length > 0 && bytes >= maxBytes)) {
        more = true;
        break;
      }
      const text = e.json();
      if (out.length - bytes < text.length * 3) out = grow(out, bytes + text.length * 3);
      bytes += out.write(text, bytes);
      ends.push(bytes);
      seqs.push(e.seq);
      types?.push(e.type);
    }
    return {
      op: 'texts',
      bytes: this.buffers.handOver(out, bytes),
      ends: Uint32Array.from(ends),
      seqs: Float64Array.from(seqs),
      types,
      lastEventSeq: seqs.length > 0 ? seqs[seqs.length - 1]! : q.afterSeq,
      more,
    };
  }
}
