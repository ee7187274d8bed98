/**
 * What the protocol adds to a stream, kept in the stream's settings (`options.durableStreams`)
 * so it travels with the stream on either store and is deleted with it. A stream made
 * through another API has none and reads as a JSON-mode stream of its events' data.
 */
import type { JsonObject, JsonValue } from '../../kernel/envelope.js';
import type { StreamRecord } from '../../core/ports.js';

export interface ProducerState {
  epoch: number;
  seq: number;
  /** when the producer last wrote (epoch ms); states idle for PRODUCER_STATE_TTL_MS are forgotten */
  at?: number;
}

/** a producer silent this long is treated as new, as the protocol allows (7 days) */
export const PRODUCER_STATE_TTL_MS = 7 * 24 * 3600 * 1000;

export interface DsMeta {
  contentType: string;
  ttlSeconds?: number;
  expiresAt?: string;
  closed?: boolean;
  /** the producer tuple whose request closed the stream: its retry is a duplicate, not a conflict */
  closedBy?: { id: string; epoch: number; seq: number };
  /** the last `Stream-Seq` accepted */
  streamSeq?: string;
  producers?: Record<string, ProducerState>;
  forkedFrom?: string;
  forkOffset?: string;
  forkSubOffset?: number;
  /** forks made from this stream that still exist */
  forks?: number;
  /** deleted while forks exist: gone (410) until the last fork is deleted */
  deleted?: boolean;
}

export const META_KEY = 'durableStreams';
export const JSON_TYPE = 'application/json';

export function metaOf(record: StreamRecord): DsMeta {
  const raw = record.options[META_KEY];
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && typeof (raw as JsonObject).contentType === 'string') {
    return raw as unknown as DsMeta;
  }
  return { contentType: JSON_TYPE };
}

export function optionsWith(record: StreamRecord, meta: DsMeta): JsonObject {
  return { ...record.options, [META_KEY]: meta as unknown as JsonValue };
}

/** the media type of a Content-Type value, lower case, without parameters */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isJsonMode(meta: DsMeta): boolean {
  return mediaType(meta.contentType) === JSON_TYPE;
}

/** text and JSON streams go over SSE as text; every other type as base64 */
export function isTextual(meta: DsMeta): boolean {
  const type = mediaType(meta.contentType);
  return type.startsWith('text/') || type === JSON_TYPE;
}

/**
 * Sliding TTLs count from the last read or append this process saw (or the stream's last
 * change, after a restart); an absolute expiry from its time.
 */
export class AccessClock {
  private readonly lastAccess = new Map<string, number>();

  /** a read or append of the stream; only streams with a sliding TTL are remembered */
  touch(stream: string, nowMs: number, meta: DsMeta): void {
    if (meta.ttlSeconds === undefined) return;
    this.lastAccess.set(stream, nowMs);
  }

  forget(stream: string): void {
    this.lastAccess.delete(stream);
  }

  expired(record: StreamRecord, meta: DsMeta, nowMs: number): boolean {
    if (meta.expiresAt !== undefined) {
      const at = Date.parse(meta.expiresAt);
      if (!Number.isFinite(at) || nowMs >= at) return true;
    }
    if (meta.ttlSeconds !== undefined) {
      const last = this.lastAccess.get(record.name) ?? Date.parse(record.updatedAt);
      if (nowMs >= last + meta.ttlSeconds * 1000) return true;
    }
    return false;
  }
}
