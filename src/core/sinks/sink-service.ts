/**
 * Sinks: create, describe, list, change and delete them, and the control operations
 * (pause, resume, seek, replay, retry dead letters). The definitions live in the document
 * collection `sinks`; each source stream gets a leased consumer `sink.<id>` created here, so
 * no event produced after the sink was created can be missed before a process picks it up.
 * Delivering is the engine's job (src/delivery/engine): it watches these documents.
 *
 * A sink may be made to wait for source streams that do not exist yet (`waitForStreams`):
 * it is stored without a consumer on them, and the engine creates the consumer, from the
 * beginning of the new stream, once the stream appears (`ensureSourceConsumer`).
 */
import { randomUUID } from 'node:crypto';
import { RivuletError } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import type { StoredEvent } from '../../kernel/envelope.js';
import type { ConsumerService } from '../consumers/consumer-service.js';
import type { StreamService } from '../streams/stream-service.js';
import type { DocumentStore, EventLog, StartPosition, StoredDocument } from '../../store/port.js';
import {
  SINKS_COLLECTION,
  STATS_COLLECTION,
  attemptStreamName,
  jobConsumerName,
  sinkConsumerName,
  type OmittedSecrets,
  type SecretsFrom,
  type SinkChecks,
  type SinkDryRun,
  type SinkInput,
  type SinkJob,
  type SinkPatch,
  type SinkRecord,
  type SinkView,
} from './sink-model.js';
import {
  DEFAULT_POLICY,
  assertSinkId,
  checkDeadLetterStream,
  checkFilter,
  checkPolicy,
  checkSources,
} from './sink-policy.js';
import { describeSink } from './sink-view.js';
import { readAttempts, type AttemptQuery } from './sink-attempts.js';
import type { AttemptRecord } from './sink-model.js';

export type SinkChangeListener = (id: string) => void;

export interface SinkSourceOptions {
  /** a source stream that does not exist yet is waited for rather than refused (STREAM_NOT_FOUND) */
  waitForStreams?: boolean;
}

/** where a source of a sink stands: its consumer is in place, its stream is missing, or it is no longer the sink's source */
export type SourceReadiness = 'ready' | 'waiting' | 'gone';

export interface SinkServiceDeps {
  documents: DocumentStore;
  events: EventLog;
  streams: StreamService;
  consumers: ConsumerService;
  clock: Clock;
  checks: SinkChecks;
}

const MAX_CAS_ROUNDS = 20;

export class SinkService {
  private readonly listeners: SinkChangeListener[] = [];

  constructor(private readonly deps: SinkServiceDeps) {}

  /** called after every change made through this service (the engine reacts at once in-process) */
  onChange(listener: SinkChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get checks(): SinkChecks {
    return this.deps.checks;
  }

  async create(input: SinkInput, owner: string, options: SinkSourceOptions = {}): Promise<SinkView> {
    if (typeof input !== 'object' || input === null)
      throw new RivuletError('VALIDATION_FAILED', 'a sink must be an object', { details: { pointer: '' } });
    const id = input.id ?? randomUUID();
    assertSinkId(id);
    const record = await this.checked(
      { stored: null, omitted: 'remove' },
      {
        id,
        owner,
        description: input.description ?? '',
        streams: input.streams,
        filter: input.filter ?? null,
        transform: input.transform ?? null,
        target: input.target,
        policy: checkPolicy(input.policy, DEFAULT_POLICY),
        deadLetterStream: input.deadLetterStream ?? null,
        state: input.state ?? 'running',
        jobs: [],
        deadLetterGeneration: 0,
        labels: input.labels ?? {},
        createdAt: this.now(),
        updatedAt: this.now(),
      },
    );
    const present = await this.presentSources(record.streams, options);
    if (await this.deps.documents.get(SINKS_COLLECTION, id)) throw exists(id);
    await this.ensureConsumers(record, input.start ?? { from: 'end' }, present);
    try {
      await this.deps.documents.put(SINKS_COLLECTION, id, record, { expectedVersion: 0 });
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONFLICT') throw exists(id);
      throw err;
    }
    this.changed(id);
    return this.describe(id);
  }

  /** the stored record, secrets included: for the engine and dialects, never for answers */
  async get(id: string): Promise<SinkRecord> {
    return (await this.document(id)).value;
  }

  async getDocument(id: string): Promise<StoredDocument<SinkRecord>> {
    return this.document(id);
  }

  /** the sink as the API shows it: secrets redacted, with status, stats and lag */
  async describe(id: string): Promise<SinkView> {
    return describeSink(this.deps, await this.document(id));
  }

  /** every sink document, in id order (the engine's scan) */
  async listRecords(options: { after?: string; limit: number }): Promise<StoredDocument<SinkRecord>[]> {
    return this.deps.documents.list<SinkRecord>(SINKS_COLLECTION, options);
  }

  async list(options: {
    after?: string;
    limit: number;
    owner?: string;
  }): Promise<{ sinks: SinkView[]; next: string | null }> {
    const sinks: SinkView[] = [];
    let after = options.after;
    // Filtering by owner may leave a page short; read on until it is full or the list ends.
    for (;;) {
      const page = await this.listRecords({ after, limit: options.limit });
      for (const doc of page) {
        if (options.owner === undefined || doc.value.owner === options.owner)
          sinks.push(await describeSink(this.deps, doc));
        if (sinks.length === options.limit) return { sinks, next: doc.key };
      }
      if (page.length < options.limit) return { sinks, next: null };
      after = page[page.length - 1]!.key;
    }
  }

  /**
   * A given `target` replaces the stored one; its secret fields are resolved against the stored
   * target first (SinkChecks.target): the redaction placeholder keeps a secret, null removes
   * it, and one left out is kept with `omittedSecrets: 'keep'` (the native PATCH) or removed
   * (the default: callers that give the whole target, a spec or an aether job).
   */
  async update(
    id: string,
    patch: SinkPatch,
    expectedVersion?: number,
    options: { omittedSecrets?: OmittedSecrets } & SinkSourceOptions = {},
  ): Promise<SinkView> {
    const doc = await this.document(id);
    if (expectedVersion !== undefined && doc.version !== expectedVersion) {
      throw new RivuletError('CONFLICT', `sink "${id}" is at version ${doc.version}, not ${expectedVersion}`, {
        details: { version: doc.version },
      });
    }
    const current = doc.value;
    const next = await this.checked(
      patch.target === undefined ? 'stored' : { stored: current.target, omitted: options.omittedSecrets ?? 'remove' },
      {
        ...current,
        ...(patch.description === undefined ? {} : { description: patch.description }),
        ...(patch.streams === undefined ? {} : { streams: patch.streams }),
        ...(patch.filter === undefined ? {} : { filter: patch.filter }),
        ...(patch.transform === undefined ? {} : { transform: patch.transform }),
        ...(patch.target === undefined ? {} : { target: patch.target }),
        ...(patch.deadLetterStream === undefined ? {} : { deadLetterStream: patch.deadLetterStream }),
        ...(patch.labels === undefined ? {} : { labels: patch.labels }),
        policy: patch.policy === undefined ? current.policy : checkPolicy(patch.policy, current.policy),
        updatedAt: this.now(),
      },
      current.deadLetterStream,
    );
    // a source read before keeps its consumer (one still awaited gets it from the engine)
    const added = await this.presentSources(
      next.streams.filter((s) => !current.streams.includes(s)),
      options,
    );
    await this.ensureConsumers(next, { from: 'end' }, added);
    await this.deps.documents.put(SINKS_COLLECTION, id, next, { expectedVersion: doc.version });
    for (const stream of current.streams) {
      if (!next.streams.includes(stream))
        await this.deps.consumers.delete(stream, sinkConsumerName(id)).catch(ignoreMissing);
    }
    this.changed(id);
    return this.describe(id);
  }

  async pause(id: string): Promise<SinkView> {
    await this.mutate(id, (sink) => ({ ...sink, state: 'paused' }));
    return this.describe(id);
  }

  async resume(id: string): Promise<SinkView> {
    await this.mutate(id, (sink) => ({ ...sink, state: 'running' }));
    return this.describe(id);
  }

  /**
   * Moves the sink's position on one source stream (or on all, for a time or an end): the
   * next event delivered is the first at or after it. Leases held by the engine are dropped;
   * what was in flight may be delivered once more.
   */
  async seek(id: string, start: StartPosition, stream?: string): Promise<SinkView> {
    const sink = await this.get(id);
    const streams = stream === undefined ? sink.streams : [stream];
    if (stream !== undefined && !sink.streams.includes(stream)) throw notSource(id, stream);
    if (start.from === 'seq' && stream === undefined && sink.streams.length > 1) {
      throw new RivuletError(
        'VALIDATION_FAILED',
        'seeking to a seq needs "stream" when the sink reads several streams',
        { details: { pointer: '/stream' } },
      );
    }
    for (const s of streams) await this.deps.consumers.seek(s, sinkConsumerName(id), start);
    this.changed(id);
    return this.describe(id);
  }

  /** Delivers events fromSeq..toSeq of a source stream once more, beside the sink's normal progress. */
  async replay(id: string, stream: string, fromSeq: number, toSeq?: number): Promise<SinkJob> {
    const sink = await this.get(id);
    if (!sink.streams.includes(stream)) throw notSource(id, stream);
    const lastSeq = (await this.deps.events.stats(stream)).lastSeq;
    return this.addJob(sink, 'replay', stream, fromSeq, toSeq ?? lastSeq);
  }

  /**
   * Delivers again the events this sink dead-lettered so far (on every dead-letter stream it
   * uses). Events that fail again are dead-lettered again, under new ids.
   */
  async retryDeadLetters(id: string): Promise<SinkJob[]> {
    const sink = await this.get(id);
    const jobs: SinkJob[] = [];
    const dlqs = [...new Set(sink.streams.map((s) => sink.deadLetterStream ?? `${s}.dlq`))];
    await this.mutate(id, (s) => ({ ...s, deadLetterGeneration: s.deadLetterGeneration + 1 }));
    for (const dlq of dlqs) {
      if (
        !(await this.deps.streams.require(dlq).then(
          () => true,
          (err: unknown) => {
            ignoreMissing(err);
            return false;
          },
        ))
      )
        continue;
      const stats = await this.deps.events.stats(dlq);
      if (stats.lastSeq < stats.firstSeq) continue;
      jobs.push(await this.addJob(await this.get(id), 'dead-letters', dlq, stats.firstSeq, stats.lastSeq));
    }
    return jobs;
  }

  /** Removes a finished side job and its consumer (the engine calls it). */
  async finishJob(id: string, jobId: string): Promise<void> {
    const job = (await this.get(id)).jobs.find((j) => j.id === jobId);
    if (job === undefined) return;
    await this.mutate(id, (s) => ({ ...s, jobs: s.jobs.filter((j) => j.id !== jobId) }));
    await this.deps.consumers.delete(job.stream, jobConsumerName(id, job.id)).catch(ignoreMissing);
  }

  async delete(id: string): Promise<void> {
    const sink = await this.get(id);
    await this.deps.documents.delete(SINKS_COLLECTION, id);
    for (const stream of sink.streams)
      await this.deps.consumers.delete(stream, sinkConsumerName(id)).catch(ignoreMissing);
    for (const job of sink.jobs)
      await this.deps.consumers.delete(job.stream, jobConsumerName(id, job.id)).catch(ignoreMissing);
    await this.deps.documents.delete(STATS_COLLECTION, id);
    await this.deps.streams.delete(attemptStreamName(id)).catch(ignoreMissing);
    this.changed(id);
  }

  async attempts(id: string, query: AttemptQuery): Promise<AttemptRecord[]> {
    await this.document(id);
    return readAttempts(this.deps, id, query);
  }

  // -------------------------------------------------------------------------------------

  private async addJob(
    sink: SinkRecord,
    kind: SinkJob['kind'],
    stream: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<SinkJob> {
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1)
      throw new RivuletError('VALIDATION_FAILED', 'fromSeq must be a positive integer', {
        details: { pointer: '/fromSeq' },
      });
    if (!Number.isSafeInteger(toSeq) || toSeq < fromSeq)
      throw new RivuletError(
        'VALIDATION_FAILED',
        'toSeq must be at or after fromSeq (the stream may have no events there)',
        { details: { pointer: '/toSeq' } },
      );
    const job: SinkJob = {
      id: randomUUID().replaceAll('-', '').slice(0, 16),
      kind,
      stream,
      fromSeq,
      toSeq,
      createdAt: this.now(),
    };
    await this.deps.consumers.create(stream, {
      name: jobConsumerName(sink.id, job.id),
      start: { from: 'seq', seq: fromSeq },
      leaseMs: 60_000,
      maxDeliveries: 1000,
      deadLetterStream: kind === 'replay' ? (sink.deadLetterStream ?? `${stream}.dlq`) : `${stream}.retry-dlq`,
    });
    await this.mutate(sink.id, (s) => ({ ...s, jobs: [...s.jobs, job] }));
    return job;
  }

  /**
   * Puts the consumer of a source stream in place once the stream exists, starting at its
   * beginning: everything in a stream that appeared after the sink was made is for the sink.
   * Re-reads the sink first, so a source removed (or a sink deleted) meanwhile is not given
   * a consumer again. The engine calls it for a source whose consumer is missing.
   */
  async ensureSourceConsumer(id: string, stream: string): Promise<SourceReadiness> {
    const doc = await this.deps.documents.get<SinkRecord>(SINKS_COLLECTION, id);
    if (!doc || !doc.value.streams.includes(stream)) return 'gone';
    if (!(await this.deps.streams.exists(stream))) return 'waiting';
    try {
      await this.ensureConsumers(doc.value, { from: 'beginning' }, [stream]);
    } catch (err) {
      // deleted again between the check and the consumer
      if (err instanceof RivuletError && err.code === 'STREAM_NOT_FOUND') return 'waiting';
      throw err;
    }
    return 'ready';
  }

  /** the streams of `streams` that exist; a missing one is refused unless waited for */
  private async presentSources(streams: string[], options: SinkSourceOptions): Promise<string[]> {
    const present: string[] = [];
    for (const stream of streams) {
      if (await this.deps.streams.exists(stream)) present.push(stream);
      else if (!options.waitForStreams) await this.deps.streams.require(stream);
    }
    return present;
  }

  private async ensureConsumers(
    sink: SinkRecord,
    start: StartPosition,
    streams: string[] = sink.streams,
  ): Promise<void> {
    for (const stream of streams) {
      await this.deps.consumers.ensure(stream, {
        name: sinkConsumerName(sink.id),
        start,
        leaseMs: 60_000,
        maxDeliveries: 1000,
        deadLetterStream: sink.deadLetterStream ?? `${stream}.dlq`,
      });
    }
  }

  /**
   * A sink definition (new, or `stored` being edited: its secrets fill those left out or
   * redacted) checked as a save would check it, then one event run through it; nothing is
   * saved or sent.
   */
  async dryRun(
    input: Pick<SinkInput, 'streams' | 'filter' | 'transform' | 'target'>,
    event: StoredEvent,
    stored: SinkRecord | null,
  ): Promise<SinkDryRun> {
    const record = await this.checked(
      { stored: stored?.target ?? null, omitted: stored === null ? 'remove' : 'keep' },
      {
        id: stored?.id ?? 'dry-run',
        owner: stored?.owner ?? '',
        description: '',
        streams: input.streams,
        filter: input.filter ?? null,
        transform: input.transform ?? null,
        target: input.target,
        policy: DEFAULT_POLICY,
        deadLetterStream: null,
        state: 'paused',
        jobs: [],
        deadLetterGeneration: 0,
        labels: {},
        createdAt: this.now(),
        updatedAt: this.now(),
      },
    );
    return this.deps.checks.dryRun(record.filter, record.transform, record.target, event);
  }

  /** `secrets`: what the given target's secrets resolve against; 'stored': the target is the stored, already normalised one */
  private async checked(
    secrets: SecretsFrom | 'stored',
    record: SinkRecord,
    storedDeadLetterStream: string | null = null,
  ): Promise<SinkRecord> {
    const streams = checkSources(record.streams);
    const deadLetterStream = checkDeadLetterStream(record.deadLetterStream, streams, storedDeadLetterStream);
    const filter = checkFilter(record.filter);
    if (record.transform !== null && typeof record.transform !== 'string') {
      throw new RivuletError('VALIDATION_FAILED', 'transform must be a JSONata expression', {
        details: { pointer: '/transform' },
      });
    }
    this.deps.checks.mapping(filter, record.transform);
    const given = record.target as unknown;
    if (
      typeof given !== 'object' ||
      given === null ||
      Array.isArray(given) ||
      typeof (given as { kind?: unknown }).kind !== 'string'
    ) {
      throw new RivuletError(
        'VALIDATION_FAILED',
        'target needs a "kind" (http, stream, s3, opensearch) and its settings',
        { details: { pointer: '/target/kind' } },
      );
    }
    const kind = (given as { kind: string }).kind;
    const target =
      secrets === 'stored' ? record.target : { ...(await this.deps.checks.target(kind, given, secrets)), kind };
    const writes = this.deps.checks.writesTo(kind, target);
    const loop = writes.find((s) => streams.includes(s));
    if (loop !== undefined) {
      throw new RivuletError('VALIDATION_FAILED', `the sink would write into "${loop}", which it reads`, {
        details: { pointer: '/target/stream' },
      });
    }
    if (typeof record.description !== 'string' || record.description.length > 2000) {
      throw new RivuletError('VALIDATION_FAILED', 'description must be a string of at most 2000 characters', {
        details: { pointer: '/description' },
      });
    }
    return { ...record, streams, deadLetterStream, filter, target };
  }

  /** read-modify-write with optimistic concurrency; retried when another writer got there first */
  async mutate(id: string, change: (sink: SinkRecord) => SinkRecord): Promise<SinkRecord> {
    for (let round = 0; ; round++) {
      const doc = await this.document(id);
      const next = { ...change(doc.value), updatedAt: this.now() };
      try {
        await this.deps.documents.put(SINKS_COLLECTION, id, next, { expectedVersion: doc.version });
        this.changed(id);
        return next;
      } catch (err) {
        if (!(err instanceof RivuletError && err.code === 'CONFLICT') || round >= MAX_CAS_ROUNDS) throw err;
      }
    }
  }

  private async document(id: string): Promise<StoredDocument<SinkRecord>> {
    const doc = await this.deps.documents.get<SinkRecord>(SINKS_COLLECTION, id);
    if (!doc) throw new RivuletError('SINK_NOT_FOUND', `there is no sink "${id}"`, { details: { sink: id } });
    return doc;
  }

  private changed(id: string): void {
    for (const listener of this.listeners) listener(id);
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function exists(id: string): RivuletError {
  return new RivuletError('SINK_EXISTS', `a sink "${id}" exists already`, { details: { sink: id } });
}

function notSource(id: string, stream: string): RivuletError {
  return new RivuletError('VALIDATION_FAILED', `sink "${id}" does not read stream "${stream}"`, {
    details: { pointer: '/stream' },
  });
}

function ignoreMissing(err: unknown): void {
  if (err instanceof RivuletError && (err.code === 'CONSUMER_NOT_FOUND' || err.code === 'STREAM_NOT_FOUND')) return;
  throw err;
}
