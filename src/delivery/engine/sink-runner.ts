/** Delivers one sink in this process: one source loop per source stream and per side job. */
import type { CoreServices } from '../../core/services.js';
import { jobConsumerName, sinkConsumerName, type SinkJob, type SinkRecord } from '../../core/sinks/sink-model.js';
import { compileEventFilter } from '../../mapping/event-filter.js';
import { compileTransform } from '../../mapping/transform.js';
import type { TargetRegistry } from '../targets/registry.js';
import type { DeliveryTarget, TargetDeps } from '../targets/target.js';
import type { RunnerContext } from './runner-context.js';
import { SourceLoop } from './source-loop.js';
import { TokenBucket } from './token-bucket.js';

/** the engine's services and settings a runner passes on to its loops as they are */
export interface RunnerDeps extends Pick<
  RunnerContext,
  'stats' | 'attempts' | 'log' | 'holder' | 'idlePollMs' | 'closeGraceMs' | 'ownerLeaseMs'
> {
  services: CoreServices;
  registry: TargetRegistry;
  targetDeps: TargetDeps;
}

/** what decides whether a running sink must restart after a change (jobs and state are handled in place) */
export function deliveryFingerprint(sink: SinkRecord): string {
  const { streams, filter, transform, target, policy, deadLetterStream } = sink;
  return JSON.stringify({ streams, filter, transform, target, policy, deadLetterStream });
}

export class SinkRunner {
  readonly fingerprint: string;
  private readonly ctx: RunnerContext;
  private readonly target: DeliveryTarget;
  private readonly loops = new Map<string, SourceLoop>();
  private readonly ensured = new Set<string>();
  private closing: Promise<void> | null = null;

  constructor(
    sink: SinkRecord,
    private readonly deps: RunnerDeps,
  ) {
    this.fingerprint = deliveryFingerprint(sink);
    const factory = deps.registry.get(sink.target.kind);
    if (factory === undefined) throw new Error(`no target of kind ${sink.target.kind}`);
    // the stored configuration is what `check` answered when the sink was saved
    this.target = factory.create(sink.target, deps.targetDeps);
    const { policy } = sink;
    this.ctx = {
      sink,
      target: this.target,
      filter: compileEventFilter(sink.filter, { pointer: '/filter' }),
      transform: compileTransform(sink.transform ?? undefined, { pointer: '/transform' }),
      bucket: policy.rateLimit === null ? null : new TokenBucket(policy.rateLimit.perSecond, policy.rateLimit.burst),
      consumers: deps.services.consumers,
      produce: deps.services.produce,
      stats: deps.stats,
      attempts: deps.attempts,
      log: deps.log,
      holder: deps.holder,
      idlePollMs: deps.idlePollMs,
      closeGraceMs: deps.closeGraceMs,
      ownerLeaseMs: deps.ownerLeaseMs,
      ensureStream: async (name, description) => {
        if (this.ensured.has(name)) return;
        await deps.services.streams.ensureInternal({ name, description }, sink.owner);
        this.ensured.add(name);
      },
      sourceReady: (stream) => deps.services.sinks.ensureSourceConsumer(sink.id, stream),
      finishJob: async (job) => {
        await deps.services.sinks.finishJob(sink.id, job.id);
      },
    };
  }

  get sinkId(): string {
    return this.ctx.sink.id;
  }

  start(): void {
    for (const stream of this.ctx.sink.streams)
      this.startLoop(stream, { stream, consumer: sinkConsumerName(this.ctx.sink.id) });
    this.syncJobs(this.ctx.sink);
  }

  /** takes a newer record of the same delivery settings: starts new side jobs, stops removed ones */
  syncJobs(sink: SinkRecord): void {
    this.ctx.sink = sink;
    const wanted = new Set(sink.jobs.map((j) => `job:${j.id}`));
    for (const job of sink.jobs) if (!this.loops.has(`job:${job.id}`)) this.startJob(job);
    for (const [key, loop] of this.loops) {
      if (key.startsWith('job:') && !wanted.has(key)) {
        this.loops.delete(key);
        void loop.close();
      }
    }
  }

  /** new events on `stream` */
  notify(stream: string): void {
    for (const loop of this.loops.values()) if (loop.source.stream === stream) loop.notify();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.loops.values()].map((l) => l.close()));
      this.loops.clear();
      await this.target.close();
    })();
    return this.closing;
  }

  private startJob(job: SinkJob): void {
    this.startLoop(`job:${job.id}`, { stream: job.stream, consumer: jobConsumerName(this.ctx.sink.id, job.id), job });
  }

  private startLoop(key: string, spec: ConstructorParameters<typeof SourceLoop>[1]): void {
    const loop = new SourceLoop(this.ctx, spec);
    this.loops.set(key, loop);
    loop.start();
  }
}
