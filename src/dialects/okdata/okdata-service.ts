/**
 * okdata event streams (seed 000) on the core: an okdata stream is a pair of ordinary streams
 * (see okdata-names.ts) whose okdata settings live in the processed stream's options. The
 * status follows okdata's lifecycle and is written as each real step completes, so a crash
 * half-way leaves CREATE_IN_PROGRESS / DELETE_IN_PROGRESS behind, and a missing raw stream
 * reads as OPERATION_FAILED. A deleted stream leaves a tombstone (INACTIVE).
 */
import { RivuletError } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import type { AppendResult, JsonObject, JsonValue } from '../../kernel/envelope.js';
import { eventsFromOkdata } from './okdata-input.js';
import type { ProduceService } from '../../core/events/produce.js';
import type { ReadService } from '../../core/events/read-events.js';
import type { Principal } from '../../core/keys/key-service.js';
import type { LiveService } from '../../core/live/live-service.js';
import type { StreamService } from '../../core/streams/stream-service.js';
import type { SinkFilter } from '../../core/sinks/sink-model.js';
import type { SinkService } from '../../core/sinks/sink-service.js';
import type { DocumentStore, StreamCatalog, StreamRecord } from '../../core/ports.js';
import { assertOkdataId, okdataLabel, processedStreamName, rawStreamName, type OkdataId } from './okdata-names.js';
import {
  CONFIDENTIALITY,
  TOMBSTONES,
  okdataOf,
  rawOf,
  tombstoneKey,
  withOkdata,
  type AccessRights,
  type OkdataSettings,
  type OkdataStatus,
  type OkdataTombstone,
  type RawSettings,
} from './okdata-settings.js';
import { fromBoundMs, toBoundMs, type OkdataTime } from './okdata-time.js';
import { failedStreamName } from './okdata-sink-model.js';
import { OkdataSinks, type OkdataSinkOptions } from './okdata-sinks.js';

export interface OkdataCreateInput {
  createRaw?: boolean;
  accessRights?: AccessRights;
  timestampField?: string;
  /** the processing step's filter and transform (none: identity) */
  processing?: { filter?: SinkFilter | null; transform?: string | null };
}

export interface OkdataView {
  id: string;
  dataset: string;
  version: string;
  createRaw: boolean;
  updatedBy: string | null;
  updatedAt: string;
  deleted: boolean;
  status: OkdataStatus;
  failure: string | null;
  configVersion: number;
  accessRights: AccessRights;
  confidentiality: string;
  rawStream: string | null;
  processedStream: string;
}

export interface SubscribableView {
  enabled: boolean;
  status: OkdataStatus;
  updatedBy: string | null;
  updatedAt: string;
}

export interface HistoryQuery {
  from: OkdataTime;
  to: OkdataTime;
  /** 1-based */
  page: number;
  pageSize: number;
}

export interface HistoryPage {
  values: JsonValue[];
  page: number;
  totalPages: number;
  total: number;
}

export interface OkdataDeps {
  /** the stream catalog (read, and the raw and processed streams deleted as a pair) */
  catalog: StreamCatalog;
  /** tombstones of deleted streams */
  documents: DocumentStore;
  streams: StreamService;
  produce: ProduceService;
  read: ReadService;
  live: LiveService;
  clock: Clock;
  sinks: SinkService;
  /** where okdata sinks deliver (the server's configuration) and their policies */
  sinkOptions?: Partial<OkdataSinkOptions>;
}

export const MAX_PAGE_SIZE = 10_000;

function notFound(id: OkdataId): RivuletError {
  return new RivuletError('STREAM_NOT_FOUND', `okdata stream ${okdataLabel(id)} does not exist`, {
    details: { okdata: okdataLabel(id), stream: processedStreamName(id) },
  });
}

function invalidState(
  id: OkdataId,
  reason: 'not-ready' | 'already-subscribable' | 'not-subscribable',
  message: string,
): RivuletError {
  return new RivuletError('INVALID_STATE', `okdata stream ${okdataLabel(id)} ${message}`, {
    details: { okdata: okdataLabel(id), reason },
  });
}

export class OkdataService {
  /** okdata's sinks (s3, elasticsearch) and the processing step */
  readonly sinks: OkdataSinks;

  constructor(private readonly deps: OkdataDeps) {
    this.sinks = new OkdataSinks(deps, {
      targets: deps.sinkOptions?.targets ?? {},
      policies: deps.sinkOptions?.policies ?? {},
    });
  }

  async create(id: OkdataId, input: OkdataCreateInput, by: string): Promise<OkdataView> {
    assertOkdataId(id);
    const { catalog, documents, streams } = this.deps;
    const processed = processedStreamName(id);
    const raw = rawStreamName(id);
    const createRaw = input.createRaw ?? true;
    const processing = { filter: input.processing?.filter ?? null, transform: input.processing?.transform ?? null };
    // a mistake in the processing step is the request's, refused before anything is made
    if (createRaw) this.sinks.checkProcessing(processing.filter, processing.transform);
    if (await catalog.get(processed)) throw exists(id);
    const tomb = await documents.get<OkdataTombstone>(TOMBSTONES, tombstoneKey(id));
    const now = this.now();
    const settings: OkdataSettings = {
      role: 'processed',
      dataset: id.dataset,
      version: id.version,
      createRaw,
      status: 'CREATE_IN_PROGRESS',
      failure: null,
      configVersion: tomb ? tomb.value.configVersion + 1 : 1,
      updatedBy: by,
      updatedAt: now,
      accessRights: input.accessRights ?? tomb?.value.accessRights ?? 'non-public',
      timestampField: input.timestampField ?? 'timestamp',
      subscribable: { enabled: false, status: 'INACTIVE', updatedBy: null, updatedAt: now },
      ...(createRaw ? { processing } : {}),
    };
    let record: StreamRecord;
    try {
      record = await streams.create(
        {
          name: processed,
          description: `okdata ${okdataLabel(id)}: processed events (what sinks, history and live subscribers read)`,
          options: { okdata: settings as unknown as JsonObject },
        },
        by,
      );
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'STREAM_EXISTS') throw exists(id);
      throw err;
    }
    let failure: string | null = null;
    if (createRaw) failure = await this.createRaw(id, raw, processed, by);
    // the processing step starts from the raw stream's beginning: nothing posted meanwhile is lost
    if (createRaw && failure === null) failure = await this.sinks.startProcessing(id, processing, by);
    const done: OkdataSettings = { ...settings, status: failure ? 'OPERATION_FAILED' : 'ACTIVE', failure };
    record = await streams.update(processed, { options: withOkdata(record, done) }, record.version);
    if (tomb) await documents.delete(TOMBSTONES, tombstoneKey(id));
    return this.view(id, record, done);
  }

  /** answers why the raw stream could not be made, or null once it exists */
  private async createRaw(id: OkdataId, raw: string, processed: string, by: string): Promise<string | null> {
    const marker: RawSettings = { role: 'raw', dataset: id.dataset, version: id.version, processed };
    const def = {
      name: raw,
      description: `okdata ${okdataLabel(id)}: raw events as posted`,
      options: { okdata: marker as unknown as JsonObject },
    };
    try {
      await this.deps.streams.create(def, by);
      return null;
    } catch (err) {
      if (!(err instanceof RivuletError) || err.code !== 'STREAM_EXISTS')
        return `the raw stream ${raw} could not be created`;
    }
    // a raw stream left by an interrupted deletion of this same okdata stream is replaced;
    // a stream of that name that okdata does not own is left alone
    const existing = await this.deps.catalog.get(raw);
    if (!existing || rawOf(existing)?.processed !== processed)
      return `a stream named ${raw} exists and is not part of ${okdataLabel(id)}`;
    await this.deps.streams.delete(raw);
    await this.deps.streams.create(def, by);
    return null;
  }

  async get(id: OkdataId): Promise<OkdataView> {
    const live = await this.find(id);
    if (live) return this.view(id, live.record, live.settings);
    const tomb = await this.deps.documents.get<OkdataTombstone>(TOMBSTONES, tombstoneKey(id));
    if (!tomb) throw notFound(id);
    const t = tomb.value;
    return {
      id: okdataLabel(id),
      dataset: id.dataset,
      version: id.version,
      createRaw: t.createRaw,
      updatedBy: t.updatedBy,
      updatedAt: t.updatedAt,
      deleted: true,
      status: 'INACTIVE',
      failure: null,
      configVersion: t.configVersion,
      accessRights: t.accessRights,
      confidentiality: CONFIDENTIALITY[t.accessRights],
      rawStream: null,
      processedStream: processedStreamName(id),
    };
  }

  /** Deletes both streams and their events; refused while the stream is subscribable. */
  async delete(id: OkdataId, by: string): Promise<void> {
    const live = await this.find(id);
    if (!live) throw notFound(id);
    let { record, settings } = live;
    const blocking = await this.sinks.blocking(id);
    if (blocking.length > 0) {
      throw new RivuletError(
        'RESOURCE_IN_USE',
        `okdata stream ${okdataLabel(id)} has sinks (${blocking.map((s) => s.type).join(', ')}); disable them first`,
        {
          details: { okdata: okdataLabel(id), referrer: 'sinks', sinks: blocking.map((s) => s.type) },
        },
      );
    }
    if (settings.subscribable.enabled) {
      throw new RivuletError(
        'RESOURCE_IN_USE',
        `okdata stream ${okdataLabel(id)} is subscribable; disable that first`,
        {
          details: { okdata: okdataLabel(id), referrer: 'subscribable' },
        },
      );
    }
    const now = this.now();
    // an interrupted deletion is finished rather than refused
    if (settings.status !== 'DELETE_IN_PROGRESS') {
      settings = {
        ...settings,
        status: 'DELETE_IN_PROGRESS',
        configVersion: settings.configVersion + 1,
        updatedBy: by,
        updatedAt: now,
      };
      record = await this.deps.streams.update(record.name, { options: withOkdata(record, settings) }, record.version);
    }
    const tomb: OkdataTombstone = {
      dataset: id.dataset,
      version: id.version,
      createRaw: settings.createRaw,
      configVersion: settings.configVersion,
      updatedBy: settings.updatedBy,
      updatedAt: settings.updatedAt,
      accessRights: settings.accessRights,
    };
    await this.deps.documents.put(TOMBSTONES, tombstoneKey(id), tomb);
    // paused (INACTIVE) sinks and the processing step go with the stream, before its streams
    await this.sinks.removeAll(id);
    await this.deps.catalog.delete(failedStreamName(id));
    const raw = await this.deps.catalog.get(rawStreamName(id));
    if (raw && rawOf(raw)?.processed === record.name) await this.deps.catalog.delete(raw.name);
    await this.deps.catalog.delete(record.name);
  }

  async subscribable(id: OkdataId): Promise<SubscribableView> {
    const live = await this.find(id);
    if (!live || live.settings.status === 'DELETE_IN_PROGRESS') throw notFound(id);
    return { ...live.settings.subscribable };
  }

  /** Turns live following on (the stream must be ACTIVE) or off (ending current subscriptions). */
  async setSubscribable(id: OkdataId, enabled: boolean, by: string): Promise<SubscribableView> {
    const live = await this.find(id);
    if (!live || live.settings.status === 'DELETE_IN_PROGRESS') throw notFound(id);
    const { record, settings } = live;
    if (enabled) {
      if ((await this.status(id, settings)).status !== 'ACTIVE') throw invalidState(id, 'not-ready', 'is not ready');
      if (settings.subscribable.enabled) throw invalidState(id, 'already-subscribable', 'is already subscribable');
    } else if (!settings.subscribable.enabled) {
      throw invalidState(id, 'not-subscribable', 'is not currently subscribable');
    }
    const now = this.now();
    const next: OkdataSettings = {
      ...settings,
      configVersion: settings.configVersion + 1,
      updatedBy: by,
      updatedAt: now,
      // nothing has to be built for live following, so the switch is ACTIVE / INACTIVE at once
      subscribable: { enabled, status: enabled ? 'ACTIVE' : 'INACTIVE', updatedBy: by, updatedAt: now },
    };
    await this.deps.streams.update(record.name, { options: withOkdata(record, next) }, record.version);
    if (!enabled) {
      const gone = new RivuletError('FORBIDDEN', `okdata stream ${okdataLabel(id)} is no longer subscribable`, {
        details: { okdata: okdataLabel(id) },
      });
      this.deps.live.endFollowers(record.name, gone);
      if (settings.createRaw) this.deps.live.endFollowers(rawStreamName(id), gone);
    }
    return { ...next.subscribable };
  }

  /** the stream posted events go to: the raw stream, or the processed one when there is no raw stream */
  async eventTarget(id: OkdataId): Promise<{ stream: string; timestampField: string }> {
    const live = await this.find(id);
    if (!live || live.settings.status === 'DELETE_IN_PROGRESS') throw notFound(id);
    const stream = live.settings.createRaw ? rawStreamName(id) : live.record.name;
    return { stream, timestampField: live.settings.timestampField };
  }

  /** Writes a JSON array of event objects, all or nothing. */
  async postEvents(
    id: OkdataId,
    body: unknown,
    ctx: { producer: string | null; newId: () => string },
  ): Promise<AppendResult | null> {
    const target = await this.eventTarget(id);
    const { producer } = ctx;
    const events = eventsFromOkdata(body, {
      producer,
      newId: ctx.newId,
      source: `/${okdataLabel(id)}`,
      timestampField: target.timestampField,
      now: () => this.deps.clock.now(),
    });
    if (events.length === 0) return null;
    try {
      return await this.deps.produce.produce({ stream: target.stream, events, producer });
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'STREAM_NOT_FOUND') throw notFound(id);
      throw err;
    }
  }

  /**
   * One page of the processed stream's events whose time lies within [from, to] (both
   * inclusive), through the store's time index, in seq order. Counting the pages reads
   * every match once; only the asked page is kept.
   */
  async history(id: OkdataId, query: HistoryQuery): Promise<HistoryPage> {
    const empty: HistoryPage = { values: [], page: query.page, totalPages: 0, total: 0 };
    const live = await this.find(id);
    if (!live || live.settings.status === 'DELETE_IN_PROGRESS') return empty;
    const fromTimeMs = fromBoundMs(query.from);
    const toTimeMs = toBoundMs(query.to);
    if (fromTimeMs > toTimeMs) return empty;
    const start = (query.page - 1) * query.pageSize;
    const end = start + query.pageSize;
    const values: JsonValue[] = [];
    let total = 0;
    for await (const event of this.deps.read.read(live.record.name, {
      fromTimeMs,
      toTimeMs,
      limit: Number.MAX_SAFE_INTEGER,
    })) {
      if (total >= start && total < end) values.push(event.data);
      total++;
    }
    return { values, page: query.page, totalPages: Math.ceil(total / query.pageSize), total };
  }

  /**
   * The live service's follow check: an okdata stream (processed or raw) may be followed only
   * while it is subscribable; other streams are not okdata's business.
   */
  readonly mayFollow = async (stream: string, _principal: Principal | null): Promise<boolean> => {
    const record = await this.deps.catalog.get(stream);
    if (!record) return true; // the subscription fails as for any missing stream
    const settings = okdataOf(record);
    if (settings) return settings.subscribable.enabled;
    const raw = rawOf(record);
    if (!raw) return true;
    const processed = await this.deps.catalog.get(raw.processed);
    return processed !== null && okdataOf(processed)?.subscribable.enabled === true;
  };

  private async find(id: OkdataId): Promise<{ record: StreamRecord; settings: OkdataSettings } | null> {
    assertOkdataId(id);
    const record = await this.deps.catalog.get(processedStreamName(id));
    const settings = record ? okdataOf(record) : null;
    return record && settings ? { record, settings } : null;
  }

  /**
   * The stored status, checked against what exists: an ACTIVE stream whose raw stream is
   * gone has failed; with a raw stream, the processing step's real state decides
   * (CREATE_IN_PROGRESS until a process runs it, OPERATION_FAILED while it fails).
   */
  private async status(
    id: OkdataId,
    settings: OkdataSettings,
  ): Promise<{ status: OkdataStatus; failure: string | null }> {
    if (settings.status !== 'ACTIVE' || !settings.createRaw)
      return { status: settings.status, failure: settings.failure };
    const raw = await this.deps.catalog.get(rawStreamName(id));
    if (!raw || !rawOf(raw))
      return { status: 'OPERATION_FAILED', failure: `the raw stream ${rawStreamName(id)} is missing` };
    return this.sinks.processingStatus(id);
  }

  private async view(id: OkdataId, record: StreamRecord, settings: OkdataSettings): Promise<OkdataView> {
    const { status, failure } = await this.status(id, settings);
    return {
      id: okdataLabel(id),
      dataset: id.dataset,
      version: id.version,
      createRaw: settings.createRaw,
      updatedBy: settings.updatedBy,
      updatedAt: settings.updatedAt,
      deleted: settings.status === 'DELETE_IN_PROGRESS',
      status,
      failure: status === 'OPERATION_FAILED' ? (failure ?? 'the last operation failed') : null,
      configVersion: settings.configVersion,
      accessRights: settings.accessRights,
      confidentiality: CONFIDENTIALITY[settings.accessRights],
      rawStream: settings.createRaw ? rawStreamName(id) : null,
      processedStream: record.name,
    };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function exists(id: OkdataId): RivuletError {
  return new RivuletError('STREAM_EXISTS', `okdata stream ${okdataLabel(id)} already exists`, {
    details: { okdata: okdataLabel(id), stream: processedStreamName(id) },
  });
}
