/**
 * What every Durable Streams operation shares: the core services, the stream state kept in
 * stream settings, sliding-TTL clocks, per-stream locks and the waiters of live reads.
 */
import type { CoreServices } from '../../core/services.js';
import { isRivuletError } from '../../kernel/errors.js';
import type { EventLog, StreamCatalog, StreamRecord } from '../../core/ports.js';
import type { Principal } from '../../core/keys/key-service.js';
import { AccessClock, metaOf, optionsWith, type DsMeta } from './ds-meta.js';
import { DsTail } from './ds-tail.js';
import { PageCache } from './ds-page-cache.js';
import { streamOfPath } from './ds-names.js';

/** owner of streams made by callers without a key, when the mount is open to them */
/**
 * What the operations use: the clock, produce and the stream service, and two narrow parts of
 * the store read directly — the event log (a stream's tail and pages by offset) and the catalog.
 */
export type DsServices = Pick<CoreServices, 'clock' | 'produce' | 'streams'> & {
  store: { events: EventLog; streams: StreamCatalog };
};

export const ANONYMOUS_OWNER = 'durable-streams';

export interface DsOptions {
  /** serve callers without a key */
  anonymous: boolean;
  /** how long a long-poll waits for data before answering 204 */
  longPollTimeoutMs: number;
  /** how long an SSE connection stays open before the server ends it (the client reconnects) */
  sseMaxMs: number;
  /** most bytes of events in one catch-up answer */
  maxReadBytes: number;
  /** memory for rendered catch-up pages before the tail (0: none) */
  pageCacheBytes: number;
}

export const DS_DEFAULTS: DsOptions = {
  anonymous: false,
  longPollTimeoutMs: 30_000,
  sseMaxMs: 60_000,
  maxReadBytes: 4 * 1024 * 1024,
  pageCacheBytes: 64 * 1024 * 1024,
};

/** An answer other than success, in the protocol's terms: a status, headers and a reason. */
export class DsProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface OpenStream {
  record: StreamRecord;
  meta: DsMeta;
}

export class DsContext {
  readonly access = new AccessClock();
  readonly tail: DsTail;
  readonly pages: PageCache;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly services: DsServices,
    readonly options: DsOptions,
  ) {
    this.tail = new DsTail(services.store.events);
    this.pages = new PageCache(options.pageCacheBytes);
  }

  nowMs(): number {
    return this.services.clock.now().getTime();
  }

  /** runs `work` after every earlier work on `stream` in this process, one at a time */
  async serial<T>(stream: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(stream) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(stream, settled);
    void settled.then(() => {
      if (this.locks.get(stream) === settled) this.locks.delete(stream);
    });
    return run;
  }

  /**
   * The stream, alive: 404 when it does not exist or has expired (an expired stream is
   * deleted here), 410 when it was deleted while forks of it remain, 403 when a caller
   * without a key asks for a stream a key holder made.
   */
  async open(name: string, principal: Principal | null): Promise<OpenStream> {
    const found = await this.find(name, principal);
    if (!found) throw new DsProblem(404, `stream not found`);
    if (found.meta.deleted) throw new DsProblem(410, 'the stream was deleted; forks of it still read its data');
    return found;
  }

  /** like `open`, but answers null for a missing stream and hands deleted ones back */
  async find(name: string, principal: Principal | null): Promise<OpenStream | null> {
    const record = await this.services.store.streams.get(name);
    if (!record) return null;
    if (!principal && record.owner !== ANONYMOUS_OWNER)
      throw new DsProblem(403, 'this stream needs a key: send "Authorization: Bearer <key>"');
    let meta = metaOf(record);
    if (!meta.deleted && this.access.expired(record, meta, this.nowMs())) {
      await this.remove(name);
      const after = await this.services.store.streams.get(name);
      if (!after) return null;
      meta = metaOf(after);
      return { record: after, meta };
    }
    return { record, meta };
  }

  /** changes the stream's protocol state; retried when another writer changed the stream meanwhile */
  async updateMeta(name: string, change: (meta: DsMeta) => DsMeta): Promise<OpenStream> {
    for (let attempt = 0; ; attempt++) {
      const record = await this.services.streams.require(name);
      const meta = change(metaOf(record));
      try {
        const updated = await this.services.streams.update(
          name,
          { options: optionsWith(record, meta) },
          record.version,
        );
        return { record: updated, meta };
      } catch (err) {
        if (attempt < 8 && isRivuletError(err) && err.code === 'CONFLICT') continue;
        throw err;
      }
    }
  }

  /**
   * Deletes a stream. One that forks still read from is only marked deleted; deleting the last
   * fork of a stream marked so deletes it too, up the chain.
   */
  async remove(name: string): Promise<void> {
    const record = await this.services.store.streams.get(name);
    if (!record) return;
    const meta = metaOf(record);
    if ((meta.forks ?? 0) > 0) {
      if (!meta.deleted) await this.updateMeta(name, (m) => ({ ...m, deleted: true }));
      this.tail.poke(name);
      return;
    }
    await this.services.store.streams.delete(name);
    this.access.forget(name);
    this.pages.forget(name);
    this.tail.poke(name);
    const named = meta.forkedFrom === undefined ? null : streamOfPath(meta.forkedFrom.replace(/^\/+/, ''));
    if (named && 'name' in named) {
      const parent = named.name;
      const exists = await this.services.store.streams.get(parent);
      if (!exists) return;
      const { meta: parentMeta } = await this.updateMeta(parent, (m) => ({
        ...m,
        forks: Math.max(0, (m.forks ?? 0) - 1),
      }));
      if (parentMeta.deleted && (parentMeta.forks ?? 0) === 0) await this.remove(parent);
    }
  }
}
