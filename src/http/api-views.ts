/**
 * The shapes the native API (`/v1`) answers, named once for its clients: the CLI and the web
 * console import them from here. Where a route sends a core view as it is, the name is that
 * view; shapes a route puts together are written out here. Types only: the console's bundler
 * erases the import, so nothing of the server is bundled into it.
 */
import type { StreamView } from '../core/streams/stream-view.js';
import type { EventAnswer } from '../kernel/envelope.js';
import type { ConsumerRecord } from '../store/port.js';
import type { ConsumerLagView } from '../core/consumers/consumer-lag.js';
import type { KeyRecord } from '../core/keys/key-record.js';
import type { AttemptRecord, SinkDryRun, SinkView } from '../core/sinks/sink-model.js';
import type { RegisteredSchema, SchemaTypeSummary, SchemaVersionInfo } from '../core/schemas/schema-registry.js';
import type { CompatibilityMode } from '../core/schemas/compatibility.js';
import type { PipelineRecord, RevisionDoc, RevisionState } from '../core/specs/revision-model.js';
import type { DatasetDoc } from '../core/specs/revision-store.js';

export type { StreamView, SinkView };
export type { RetentionPolicy, StreamStats } from '../store/port.js';
export type { SinkStats, SinkStatus } from '../core/sinks/sink-model.js';
export type { RuleView } from '../core/rules/rule-model.js';
export type { RateSeries } from '../core/streams/produce-rates.js';
export type { SinkRateSeries } from '../core/sinks/sink-rates.js';
export type { PipelineStatus } from '../core/specs/revision-model.js';
export type { CompatibilityMode };

/** `GET /v1/streams` */
export interface StreamPage {
  streams: StreamView[];
  next: string | null;
}

/** an event as reads, consumers and live subscriptions answer it */
export type EventView = EventAnswer;

/** `GET /v1/streams/{name}/consumers/{consumer}` */
export type ConsumerView = ConsumerRecord;

/** `GET /v1/streams/{name}/consumers/{consumer}/lag` */
export type LagView = ConsumerLagView;

/** `GET /v1/keys/{id}`; `GET /v1/whoami` answers the key a request presents */
export type KeyView = KeyRecord;

/** `POST /v1/keys`: the secret is shown this once */
export interface CreatedKey {
  key: KeyView;
  secret: string;
}

/** one of a sink's source streams, in its lag */
export type SinkStreamLag = SinkView['lag']['streams'][number];

/** `GET /v1/sinks/{id}/attempts` */
export type AttemptView = AttemptRecord;

/** `POST /v1/sinks/dry-run`: the core's dry run with the event it was run on */
export type SinkDryRunView = SinkDryRun & { event: EventAnswer };

/** one type in `GET /v1/streams/{name}/schemas` */
export type SchemaTypeView = SchemaTypeSummary;

/** `GET /v1/streams/{name}/schemas/{type}` */
export interface SchemaVersionList {
  type: string;
  compatibility: CompatibilityMode;
  versions: SchemaVersionInfo[];
}

/** `GET /v1/streams/{name}/schemas/{type}/versions/{version}` */
export type SchemaView = RegisteredSchema & { urn: string };

/** one of a revision's pipelines */
export type PipelineView = PipelineRecord;

/** `GET /v1/specs/{owner}/{dataset}/revisions/{revision}`: the stored revision and its state */
export type RevisionView = RevisionDoc & { state: RevisionState };

/** one of `GET /v1/specs/{owner}/{dataset}/revisions`: without spec, pipelines and logs */
export type RevisionSummaryView = Pick<
  RevisionView,
  'id' | 'owner' | 'dataset' | 'revision' | 'state' | 'hash' | 'prune' | 'createdAt' | 'updatedAt' | 'finishedAt'
>;

/** `GET /v1/specs`: a dataset with specs */
export type DatasetView = DatasetDoc;
