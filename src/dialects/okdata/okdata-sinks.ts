/**
 * okdata's sinks (seed 000) as ordinary Rivulet sinks of the processed stream, and the
 * processing step (raw → processed) as a `stream`-target sink of the raw stream:
 *   s3             → an `s3` sink: NDJSON objects under `processed/{confidentiality}/{d}/version={v}/`
 *   elasticsearch  → an `opensearch` sink into `processed-{confidentiality}-{d}-{v}-yyyy.mm`
 *                    (monthly indices); failed documents go to the failed stream
 * Where they deliver (bucket, endpoint, nodes, credentials) is the server's configuration,
 * handed in as `targets`; a type the server has no configuration for is refused.
 * Their status is read from the real sink (okdata-sink-model.ts).
 */
import { RivuletError } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import type { JsonObject } from '../../kernel/envelope.js';
import type { PolicyInput, SinkFilter } from '../../core/sinks/sink-model.js';
import type { SinkService } from '../../core/sinks/sink-service.js';
import type { SinkView } from '../../core/sinks/sink-model.js';
import type { StreamService } from '../../core/streams/stream-service.js';
import type { StreamCatalog, StreamRecord } from '../../core/ports.js';
import { assertOkdataId, okdataLabel, processedStreamName, rawStreamName, type OkdataId } from './okdata-names.js';
import { CONFIDENTIALITY, okdataOf, withOkdata, type OkdataSettings, type OkdataStatus } from './okdata-settings.js';
import {
  OKDATA_SINK_TYPES,
  failedStreamName,
  isOkdataSinkType,
  okdataLabelOf,
  okdataSinkId,
  okdataSinkStatus,
  type OkdataSinkLabel,
  type OkdataSinkRole,
  type OkdataSinkType,
} from './okdata-sink-model.js';

/** The server's settings of each okdata sink type; a type without settings is not offered. */
export interface OkdataSinkTargets {
  /** the `s3` target's settings but `prefix` (bucket, region, endpoint, forcePathStyle, credentials) */
  s3?: JsonObject;
  /** the `opensearch` target's settings but `index` and `dateSuffix` (node, auth) */
  elasticsearch?: JsonObject;
}

export interface OkdataSinkOptions {
  targets: OkdataSinkTargets;
  /** delivery policies per sink role, over the defaults below */
  policies: Partial<Record<OkdataSinkRole, PolicyInput>>;
}

/** the processing step keeps the raw stream's order and passes events on at once */
const PROCESSING_POLICY: PolicyInput = { ordering: 'ordered', batch: { maxEvents: 1000, maxAgeMs: 0 } };
/** Firehose-like buffering: objects of up to 10 000 events or a minute's worth */
const S3_POLICY: PolicyInput = { batch: { maxEvents: 10_000, maxAgeMs: 60_000 } };
const ES_POLICY: PolicyInput = { batch: { maxEvents: 500, maxAgeMs: 1000 } };

export interface OkdataSinkView {
  type: OkdataSinkType;
  status: OkdataStatus;
  updatedBy: string | null;
  updatedAt: string;
  /** the Rivulet sink behind it (readable through /v1/sinks) */
  sink: string;
}

export interface OkdataSinksDeps {
  /** the stream catalog (read, and the raw and processed streams deleted as a pair) */
  catalog: StreamCatalog;
  streams: StreamService;
  sinks: SinkService;
  clock: Clock;
}

function streamNotFound(id: OkdataId): RivuletError {
  return new RivuletError('STREAM_NOT_FOUND', `okdata stream ${okdataLabel(id)} does not exist`, {
    details: { okdata: okdataLabel(id), stream: processedStreamName(id) },
  });
}

function sinkNotFound(id: OkdataId, type: string): RivuletError {
  return new RivuletError('SINK_NOT_FOUND', `okdata stream ${okdataLabel(id)} has no ${type} sink`, {
    details: { okdata: okdataLabel(id), type, sink: okdataSinkId(id, type as OkdataSinkRole) },
  });
}

export class OkdataSinks {
  constructor(
    private readonly deps: OkdataSinksDeps,
    private readonly options: OkdataSinkOptions,
  ) {}

  /** the sink types the server can deliver to */
  available(): OkdataSinkType[] {
    return OKDATA_SINK_TYPES.filter((t) => this.options.targets[t] !== undefined);
  }

  /** okdata's sinks of a stream, deleted ones hidden */
  async list(id: OkdataId): Promise<OkdataSinkView[]> {
    await this.requireStream(id);
    const out: OkdataSinkView[] = [];
    for (const type of OKDATA_SINK_TYPES) {
      const view = await this.find(id, type);
      if (view && okdataLabelOf(view)?.deleting !== true) out.push(toView(type, view));
    }
    return out;
  }

  async get(id: OkdataId, type: string): Promise<OkdataSinkView> {
    await this.requireStream(id);
    const sinkType = checkType(type);
    const view = await this.find(id, sinkType);
    if (!view || okdataLabelOf(view)?.deleting === true) throw sinkNotFound(id, sinkType);
    return toView(sinkType, view);
  }

  /** Enables a sink of the processed stream, from its first event on. */
  async create(id: OkdataId, type: string, by: string): Promise<OkdataSinkView> {
    const { record, settings } = await this.requireStream(id);
    const sinkType = checkType(type);
    const base = this.options.targets[sinkType];
    if (base === undefined) {
      throw new RivuletError(
        'BAD_REQUEST',
        `sink type ${sinkType} is not available: this server has no ${sinkType === 's3' ? 'S3 bucket' : 'Elasticsearch/OpenSearch node'} configured for okdata sinks`,
        {
          details: { reason: 'sink-type-unavailable', type: sinkType, available: this.available() },
        },
      );
    }
    const existing = await this.find(id, sinkType);
    if (existing) {
      const deleting = okdataLabelOf(existing)?.deleting === true;
      throw new RivuletError(
        'SINK_EXISTS',
        deleting
          ? `the ${sinkType} sink of okdata stream ${okdataLabel(id)} is being deleted`
          : `okdata stream ${okdataLabel(id)} has a ${sinkType} sink already`,
        {
          details: {
            okdata: okdataLabel(id),
            type: sinkType,
            reason: deleting ? 'deleting' : 'exists',
            sink: existing.id,
          },
        },
      );
    }
    const now = this.now();
    const confidentiality = CONFIDENTIALITY[settings.accessRights];
    const target: JsonObject & { kind: string } =
      sinkType === 's3'
        ? { ...base, kind: 's3', prefix: `processed/${confidentiality}/${id.dataset}/version=${id.version}` }
        : {
            ...base,
            kind: 'opensearch',
            index: `processed-${confidentiality}-${id.dataset}-${id.version}`.toLowerCase(),
            dateSuffix: 'monthly',
          };
    const label: OkdataSinkLabel = {
      dataset: id.dataset,
      version: id.version,
      type: sinkType,
      updatedBy: by,
      updatedAt: now,
    };
    try {
      await this.deps.sinks.create(
        {
          id: okdataSinkId(id, sinkType),
          description: `okdata ${okdataLabel(id)}: ${sinkType} sink of the processed stream`,
          streams: [record.name],
          target,
          policy: { ...(sinkType === 's3' ? S3_POLICY : ES_POLICY), ...this.options.policies[sinkType] },
          deadLetterStream: failedStreamName(id),
          start: { from: 'beginning' },
          labels: { okdata: label as unknown as JsonObject },
        },
        by,
      );
    } catch (err) {
      // another request enabled it first
      if (err instanceof RivuletError && err.code === 'SINK_EXISTS') {
        throw new RivuletError('SINK_EXISTS', `okdata stream ${okdataLabel(id)} has a ${sinkType} sink already`, {
          details: { okdata: okdataLabel(id), type: sinkType, reason: 'exists' },
        });
      }
      throw err;
    }
    await this.touch(id, by);
    return toView(sinkType, await this.deps.sinks.describe(okdataSinkId(id, sinkType)));
  }

  /**
   * Disables (deletes) a sink: marked DELETE_IN_PROGRESS and paused, then removed with its
   * consumer and logs. Refused while it is still being built, as okdata did. A deletion cut
   * short by a crash is hidden already and is finished by the next DELETE, which answers
   * that the sink does not exist.
   */
  async delete(id: OkdataId, type: string, by: string): Promise<void> {
    await this.requireStream(id);
    const sinkType = checkType(type);
    const view = await this.find(id, sinkType);
    if (!view) throw sinkNotFound(id, sinkType);
    if (okdataLabelOf(view)?.deleting === true) {
      await this.remove(view.id);
      throw sinkNotFound(id, sinkType);
    }
    if (okdataSinkStatus(view) === 'CREATE_IN_PROGRESS') {
      throw new RivuletError(
        'INVALID_STATE',
        `the ${sinkType} sink of okdata stream ${okdataLabel(id)} is still being built`,
        {
          details: { okdata: okdataLabel(id), type: sinkType, reason: 'sink-under-construction' },
        },
      );
    }
    await this.deps.sinks.mutate(view.id, (sink) => ({
      ...sink,
      state: 'paused',
      labels: {
        ...sink.labels,
        okdata: { ...(sink.labels.okdata as JsonObject), deleting: true, updatedBy: by, updatedAt: this.now() },
      },
    }));
    await this.touch(id, by);
    await this.remove(view.id);
  }

  /** okdata sinks that block deleting the stream: any not INACTIVE (paused) or already being deleted */
  async blocking(id: OkdataId): Promise<OkdataSinkView[]> {
    const out: OkdataSinkView[] = [];
    for (const type of OKDATA_SINK_TYPES) {
      const view = await this.find(id, type);
      if (!view) continue;
      const status = okdataSinkStatus(view);
      if (status !== 'INACTIVE' && status !== 'DELETE_IN_PROGRESS') out.push(toView(type, view));
    }
    return out;
  }

  /** Removes every Rivulet sink of the stream (its okdata sinks and the processing step), for the stream's deletion. */
  async removeAll(id: OkdataId): Promise<void> {
    for (const role of [...OKDATA_SINK_TYPES, 'processing'] as const) await this.remove(okdataSinkId(id, role));
  }

  // processing step -----------------------------------------------------------------------

  /** checks a processing filter and transform before anything is created (INVALID_EXPRESSION naming the field) */
  checkProcessing(filter: SinkFilter | null, transform: string | null): void {
    this.deps.sinks.checks.mapping(filter, transform);
  }

  /**
   * Starts the processing step: a `stream` sink from the raw to the processed stream, from
   * the raw stream's first event (so events posted before it existed are processed too).
   * Identity by default: type, source, time and data are kept. Answers why it could not
   * be created, or null.
   */
  async startProcessing(
    id: OkdataId,
    processing: { filter: SinkFilter | null; transform: string | null },
    by: string,
  ): Promise<string | null> {
    const sinkId = okdataSinkId(id, 'processing');
    const label: OkdataSinkLabel = {
      dataset: id.dataset,
      version: id.version,
      type: 'processing',
      updatedBy: by,
      updatedAt: this.now(),
    };
    // one left by an interrupted deletion of this same okdata stream is replaced
    await this.remove(sinkId);
    try {
      await this.deps.sinks.create(
        {
          id: sinkId,
          description: `okdata ${okdataLabel(id)}: the processing step, raw → processed`,
          streams: [rawStreamName(id)],
          filter: processing.filter,
          transform: processing.transform,
          target: { kind: 'stream', stream: processedStreamName(id) },
          policy: { ...PROCESSING_POLICY, ...this.options.policies.processing },
          deadLetterStream: failedStreamName(id),
          start: { from: 'beginning' },
          labels: { okdata: label as unknown as JsonObject },
        },
        by,
      );
      return null;
    } catch (err) {
      if (!(err instanceof RivuletError)) throw err;
      return `the processing step could not be created: ${err.message}`;
    }
  }

  /** the processing step's status, or a failure naming why it is not running */
  async processingStatus(id: OkdataId): Promise<{ status: OkdataStatus; failure: string | null }> {
    const sinkId = okdataSinkId(id, 'processing');
    const view = await this.deps.sinks.describe(sinkId).catch((err: unknown) => {
      if (err instanceof RivuletError && err.code === 'SINK_NOT_FOUND') return null;
      throw err;
    });
    if (!view) return { status: 'OPERATION_FAILED', failure: `the processing step (sink ${sinkId}) is missing` };
    const status = okdataSinkStatus(view);
    switch (status) {
      case 'ACTIVE':
      case 'CREATE_IN_PROGRESS':
        return { status, failure: null };
      case 'INACTIVE':
        // events posted now stay in the raw stream: the stream is not working as it should
        return { status: 'OPERATION_FAILED', failure: `the processing step (sink ${sinkId}) is paused` };
      default:
        return {
          status: 'OPERATION_FAILED',
          failure: `the processing step (sink ${sinkId}) is failing: ${view.stats.lastError ?? 'unknown error'}`,
        };
    }
  }

  // ---------------------------------------------------------------------------------------

  private async requireStream(id: OkdataId): Promise<{ record: StreamRecord; settings: OkdataSettings }> {
    assertOkdataId(id);
    const record = await this.deps.catalog.get(processedStreamName(id));
    const settings = record ? okdataOf(record) : null;
    if (!record || !settings || settings.status === 'DELETE_IN_PROGRESS') throw streamNotFound(id);
    return { record, settings };
  }

  private async find(id: OkdataId, role: OkdataSinkRole): Promise<SinkView | null> {
    try {
      return await this.deps.sinks.describe(okdataSinkId(id, role));
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'SINK_NOT_FOUND') return null;
      throw err;
    }
  }

  private async remove(sinkId: string): Promise<void> {
    await this.deps.sinks.delete(sinkId).catch((err: unknown) => {
      if (!(err instanceof RivuletError && err.code === 'SINK_NOT_FOUND')) throw err;
    });
  }

  /** a sink change is a change of the stream's configuration, as in okdata (retried over concurrent changes) */
  private async touch(id: OkdataId, by: string): Promise<void> {
    for (let round = 0; ; round++) {
      const { record, settings } = await this.requireStream(id);
      const next: OkdataSettings = {
        ...settings,
        configVersion: settings.configVersion + 1,
        updatedBy: by,
        updatedAt: this.now(),
      };
      try {
        await this.deps.streams.update(record.name, { options: withOkdata(record, next) }, record.version);
        return;
      } catch (err) {
        if (!(err instanceof RivuletError && err.code === 'CONFLICT') || round >= 10) throw err;
      }
    }
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function checkType(type: string): OkdataSinkType {
  if (!isOkdataSinkType(type)) {
    throw new RivuletError('BAD_REQUEST', `invalid sink type: ${type.slice(0, 100)}`, {
      details: { reason: 'invalid-sink-type', type: type.slice(0, 100), types: [...OKDATA_SINK_TYPES] },
    });
  }
  return type;
}

function toView(type: OkdataSinkType, view: SinkView): OkdataSinkView {
  const label = okdataLabelOf(view);
  return {
    type,
    status: okdataSinkStatus(view),
    updatedBy: label?.updatedBy ?? view.owner,
    updatedAt: label?.updatedAt ?? view.updatedAt,
    sink: view.id,
  };
}
