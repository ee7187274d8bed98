/**
 * One event = one JetStream message. The subject carries the stream, type and id (so type
 * filters and lookups by id are subject filters); the body is the envelope as JSON; the
 * stream sequence IS the event's seq; the message timestamp is its `received` time; the
 * per-type position rides in a header because JetStream has no per-subject counter.
 */
import { PubHeaders } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { NewEvent, StoredEvent } from '../../kernel/envelope.js';

export const TYPE_SEQ_HEADER = 'Rivulet-Type-Seq';

/** what a message's body holds: the event as produced (the store adds seqs and times) */
type Body = Omit<NewEvent, 'idSupplied' | 'schemaVersion'> & { schemaVersion: number | null };

/** throws (e.g. on a BigInt) before anything is sent, which keeps a failed batch all-or-nothing */
export function encodeBody(ev: NewEvent): string {
  const body: Body = {
    id: ev.id,
    type: ev.type,
    source: ev.source,
    time: ev.time,
    producer: ev.producer,
    data: ev.data,
    meta: ev.meta,
    schemaVersion: ev.schemaVersion ?? null,
  };
  return JSON.stringify(body);
}

/** on every message of a chain but its last: another process's writer waits for the chain's end */
export const MORE_HEADER = 'Rivulet-More';

/**
 * The headers of one event's message: its id (JetStream's de-duplication), where it must land
 * (right after seq `lastSeq` and, after a chain's first message, after the message with id
 * `lastMsgId`), its typeSeq and whether its request goes on.
 */
export function eventHeaders(
  id: string,
  lastSeq: number,
  lastMsgId: string | null,
  typeSeq: number,
  more: boolean,
): MsgHdrs {
  const h = headers();
  h.set(PubHeaders.MsgIdHdr, id);
  h.set(PubHeaders.ExpectedLastSeqHdr, String(lastSeq));
  if (lastMsgId !== null) h.set(PubHeaders.ExpectedLastMsgIdHdr, lastMsgId);
  h.set(TYPE_SEQ_HEADER, String(typeSeq));
  if (more) h.set(MORE_HEADER, '1');
  return h;
}

export interface RawMessage {
  seq: number;
  subject?: string;
  data: Uint8Array;
  header?: MsgHdrs | undefined;
  receivedMs: number;
}

export function typeSeqOf(header: MsgHdrs | undefined): number {
  const value = Number(header?.get(TYPE_SEQ_HEADER) ?? '0');
  return Number.isSafeInteger(value) ? value : 0;
}

export function decodeEvent(stream: string, raw: RawMessage): StoredEvent {
  const body = JSON.parse(
    Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength).toString('utf8'),
  ) as Body;
  return {
    id: body.id,
    stream,
    seq: raw.seq,
    typeSeq: typeSeqOf(raw.header),
    type: body.type,
    source: body.source,
    time: body.time,
    received: new Date(raw.receivedMs).toISOString(),
    producer: body.producer,
    data: body.data,
    meta: body.meta,
    schemaVersion: body.schemaVersion,
  };
}
