/** What a sink's source loops share: the sink, its compiled pieces, and the engine's services. */
import type { Logger } from 'pino';
import type { ConsumerService } from '../../core/consumers/consumer-service.js';
import type { ProduceService } from '../../core/events/produce.js';
import type { SinkJob, SinkRecord } from '../../core/sinks/sink-model.js';
import type { SourceReadiness } from '../../core/sinks/sink-service.js';
import type { CompiledEventFilter } from '../../mapping/event-filter.js';
import type { CompiledTransform } from '../../mapping/transform.js';
import type { DeliveryTarget } from '../targets/target.js';
import type { AttemptLog } from './attempt-log.js';
import type { StatsRecorder } from './sink-stats.js';
import type { TokenBucket } from './token-bucket.js';

export interface RunnerContext {
  sink: SinkRecord;
  target: DeliveryTarget;
  filter: CompiledEventFilter;
  transform: CompiledTransform;
  bucket: TokenBucket | null;
  consumers: ConsumerService;
  produce: ProduceService;
  stats: StatsRecorder;
  attempts: AttemptLog;
  log: Logger;
  /** this process's id, as the owner lease and consumer client id name it */
  holder: string;
  idlePollMs: number;
  closeGraceMs: number;
  /** the ownership lease; events this process holds are leased for as long and renewed, so they outlive it by little */
  ownerLeaseMs: number;
  ensureStream(name: string, description: string): Promise<void>;
  /** gives the sink its consumer on a source stream that appeared; 'waiting' while it is missing */
  sourceReady(stream: string): Promise<SourceReadiness>;
  finishJob(job: SinkJob): Promise<void>;
}
