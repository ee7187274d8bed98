/**
 * Aether jobs over the sink service: upsert, read, list, delete, start/stop (resume/pause),
 * set_offset (seek) and the mapping dry-run. Who may do what: a key acts for its own owner and
 * needs `manage` on each of the job's topics (as for any sink); an admin key acts for anyone.
 * Another owner's job is "not found" to a key, so its existence does not leak.
 *
 * A job may name topics that do not exist yet, as the original subscribed to topics before
 * they appeared: its sink waits for them (`waitForStreams`) and reads each from its beginning
 * once it is created.
 */
import { randomBytes } from 'node:crypto';
import { RivuletError, isRivuletError } from '../../kernel/errors.js';
import type { Principal } from '../../core/keys/key-service.js';
import type { DocumentStore, StartPosition } from '../../core/ports.js';
import type { SinkService } from '../../core/sinks/sink-service.js';
import type { Clock } from '../../kernel/clock.js';
import type { PolicyInput, SinkRecord } from '../../core/sinks/sink-model.js';
import type { SinkView } from '../../core/sinks/sink-model.js';
import {
  SINK_PREFIX,
  assertJobId,
  hashJob,
  jobOf,
  keepStoredSecrets,
  labelOf,
  parseJob,
  sinkIdOf,
  sinkInputOf,
  type AetherJob,
} from './aether-job.js';
import { jobView, type JobView } from './aether-view.js';

const KEY_COLLECTION = 'aether';
const KEY_NAME = 'hash-key';
const PAGE = 200;

export interface AetherOptions {
  /** delivery policy every job starts from (retry settings; tests make them fast); ordering and rate limit are the job's */
  policy?: PolicyInput;
}

export interface UpsertOutcome {
  job: JobView;
  /** false: the job existed with the same hash and was left as it was */
  changed: boolean;
  created: boolean;
}

/** What the jobs use: the sink service, the clock, and one document collection (the hash key) */
export interface AetherServices {
  sinks: SinkService;
  clock: Clock;
  /** holds the `aether` collection only */
  documents: DocumentStore;
}

export class AetherJobs {
  private hashKey: Promise<Buffer> | null = null;

  constructor(
    private readonly services: AetherServices,
    private readonly options: AetherOptions = {},
  ) {}

  /**
   * Creates or replaces the job. With `keepExisting` (the jobs folder at start-up) an existing
   * job wins and is answered unchanged.
   */
  async upsert(
    body: unknown,
    actor: Principal,
    options: { pathId?: string; keepExisting?: boolean } = {},
  ): Promise<UpsertOutcome> {
    const parsed = parseJob(body, options.pathId, actor.owner);
    if (!actor.admin && parsed.owner !== actor.owner) {
      throw new RivuletError('FORBIDDEN', `this key acts for owner "${actor.owner}", not "${parsed.owner}"`, {
        details: { needs: 'admin' },
      });
    }
    this.assertMayManage(actor, parsed.topic);
    const sinkId = sinkIdOf(parsed.id);
    const existing = await this.services.sinks.getDocument(sinkId).catch(notFoundAsNull);
    if (existing !== null) {
      const label = labelOf(existing.value);
      if (label === null || (!actor.admin && existing.value.owner !== actor.owner)) {
        throw new RivuletError('CONFLICT', `the job id "${parsed.id}" is taken`, { details: { pointer: '/id' } });
      }
      if (options.keepExisting) return { job: await this.view(sinkId), changed: false, created: false };
      if (existing.value.owner !== parsed.owner) {
        throw new RivuletError(
          'CONFLICT',
          `job "${parsed.id}" belongs to "${existing.value.owner}"; a job's owner cannot change (delete it and create it anew)`,
          { details: { pointer: '/owner' } },
        );
      }
      this.assertMayManage(actor, existing.value.streams);
      const job = keepStoredSecrets(parsed, jobOf(existing.value));
      const hash = hashJob(job, await this.key());
      if (hash === label.hash) return { job: await this.view(sinkId), changed: false, created: false };
      const input = sinkInputOf(
        job,
        { id: job.id, modified: this.now(), hash, rate_limit: job.rate_limit ?? null },
        this.options.policy,
      );
      const { streams, target, policy, labels, description } = input;
      await this.services.sinks.update(sinkId, { streams, target, policy, labels, description }, existing.version, {
        waitForStreams: true,
      });
      return { job: await this.view(sinkId), changed: true, created: false };
    }
    const job = keepStoredSecrets(parsed, null);
    const hash = hashJob(job, await this.key());
    const input = sinkInputOf(
      job,
      { id: job.id, modified: this.now(), hash, rate_limit: job.rate_limit ?? null },
      this.options.policy,
    );
    // a new job reads its topics from the beginning, as the original's consumers did (earliest)
    try {
      await this.services.sinks.create({ ...input, start: { from: 'beginning' } }, job.owner, { waitForStreams: true });
    } catch (err) {
      // another request created it meanwhile: the caller may simply post again
      if (isRivuletError(err) && err.code === 'SINK_EXISTS')
        throw new RivuletError('CONFLICT', `job "${job.id}" was created meanwhile; post again to replace it`, {
          details: { pointer: '/id' },
        });
      throw err;
    }
    return { job: await this.view(sinkId), changed: true, created: true };
  }

  async get(id: string, actor: Principal): Promise<JobView> {
    await this.owned(id, actor);
    return this.view(sinkIdOf(id));
  }

  /** every job of `owner` (all jobs when undefined), in id order */
  async list(owner: string | undefined, actor: Principal): Promise<JobView[]> {
    if (!actor.admin && owner !== actor.owner) {
      throw new RivuletError(
        'FORBIDDEN',
        `this key acts for owner "${actor.owner}", not "${owner ?? '(all owners)'}"`,
        { details: { needs: 'admin' } },
      );
    }
    const out: JobView[] = [];
    for await (const sink of this.jobSinks()) {
      if (owner === undefined || sink.owner === owner) out.push(await this.view(sink.id));
    }
    return out;
  }

  /** the ids of the caller's jobs (every job's for an admin): the original's `/jobs/list` */
  async ids(actor: Principal): Promise<string[]> {
    const out: string[] = [];
    for await (const sink of this.jobSinks()) {
      if (actor.admin || sink.owner === actor.owner) out.push(labelOf(sink)!.id);
    }
    return out;
  }

  async delete(id: string, actor: Principal): Promise<void> {
    await this.owned(id, actor);
    await this.services.sinks.delete(sinkIdOf(id));
  }

  async start(id: string, actor: Principal): Promise<JobView> {
    await this.owned(id, actor);
    await this.services.sinks.resume(sinkIdOf(id));
    return this.view(sinkIdOf(id));
  }

  async stop(id: string, actor: Principal): Promise<JobView> {
    await this.owned(id, actor);
    await this.services.sinks.pause(sinkIdOf(id));
    return this.view(sinkIdOf(id));
  }

  /** The next event delivered from each topic (or only `topic`) is the first at or after the position. */
  async setOffset(id: string, actor: Principal, position: StartPosition, topic?: string): Promise<JobView> {
    const sink = await this.owned(id, actor);
    if (topic !== undefined && !sink.streams.includes(topic)) {
      throw new RivuletError('VALIDATION_FAILED', `job "${id}" does not read topic "${topic}"`, {
        details: { pointer: '/topic' },
      });
    }
    for (const stream of topic === undefined ? sink.streams : [topic]) {
      // a topic that does not exist yet is read from its beginning once it appears: nothing to move
      const readiness = await this.services.sinks.ensureSourceConsumer(sink.id, stream);
      if (readiness === 'ready') await this.services.sinks.seek(sink.id, position, stream);
      else if (topic !== undefined) {
        throw new RivuletError(
          'STREAM_NOT_FOUND',
          `topic "${topic}" does not exist yet; job "${id}" reads it from its first event once it is created`,
          { details: { stream: topic } },
        );
      }
    }
    return this.view(sink.id);
  }

  /** the stored job, secrets included: for the dry-run only, whose answer redacts them */
  async stored(id: string, actor: Principal): Promise<AetherJob> {
    return jobOf(await this.owned(id, actor));
  }

  // -------------------------------------------------------------------------------------

  private async owned(id: string, actor: Principal): Promise<SinkRecord> {
    assertJobId(id);
    const sink = await this.services.sinks.get(sinkIdOf(id)).catch(notFoundAsNull);
    if (sink === null || labelOf(sink) === null || (!actor.admin && sink.owner !== actor.owner)) throw jobNotFound(id);
    this.assertMayManage(actor, sink.streams);
    return sink;
  }

  private assertMayManage(actor: Principal, topics: string[]): void {
    if (actor.admin) return;
    for (const topic of topics) {
      if (!actor.can('manage', topic)) {
        throw new RivuletError('FORBIDDEN', `this key lacks manage access to topic "${topic}"`, {
          details: { needs: `manage:${topic}` },
        });
      }
    }
  }

  private async *jobSinks(): AsyncGenerator<SinkRecord> {
    // sink ids sort, so the jobs are one run of ids after the prefix
    let after = SINK_PREFIX;
    for (;;) {
      const page = await this.services.sinks.listRecords({ after, limit: PAGE });
      for (const doc of page) {
        if (!doc.key.startsWith(SINK_PREFIX)) return;
        if (labelOf(doc.value) !== null) yield doc.value;
      }
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.key;
    }
  }

  private async view(sinkId: string): Promise<JobView> {
    const described: SinkView = await this.services.sinks.describe(sinkId);
    // the described target is redacted; jobView redacts by field again, so either way no secret leaves
    return jobView(described);
  }

  /** The HMAC key of job hashes: made once per store, shared by every process. */
  private key(): Promise<Buffer> {
    this.hashKey ??= (async () => {
      const documents = this.services.documents;
      const found = await documents.get<{ key: string }>(KEY_COLLECTION, KEY_NAME);
      if (found) return Buffer.from(found.value.key, 'base64');
      try {
        await documents.put(
          KEY_COLLECTION,
          KEY_NAME,
          { key: randomBytes(32).toString('base64') },
          { expectedVersion: 0 },
        );
      } catch (err) {
        if (!(isRivuletError(err) && err.code === 'CONFLICT')) throw err;
      }
      const made = await documents.get<{ key: string }>(KEY_COLLECTION, KEY_NAME);
      return Buffer.from(made!.value.key, 'base64');
    })();
    this.hashKey.catch(() => {
      this.hashKey = null;
    });
    return this.hashKey;
  }

  private now(): string {
    return this.services.clock.now().toISOString();
  }
}

export function jobNotFound(id: string): RivuletError {
  return new RivuletError('NOT_FOUND', `there is no job "${id}"`, { details: { job: id } });
}

function notFoundAsNull(err: unknown): null {
  if (isRivuletError(err) && err.code === 'SINK_NOT_FOUND') return null;
  throw err;
}
