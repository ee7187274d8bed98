/**
 * The applier: runs the pipelines of queued revisions in the background, one revision at a
 * time and each revision's pipelines in order, a pipeline starting once its dependencies
 * succeeded. A pipeline moves QUEUED → INPROGRESS → SUCCEEDED or FAILED; a failure fails the
 * queued pipelines that depend on it, and the rest carry on.
 *
 * When it takes a revision up, the applier plans it again, so a revision queued behind
 * another of its dataset acts on the world as that one left it. Each pipeline re-reads its
 * resource before changing it, so running one twice (after a crash) does no harm; revisions
 * left unfinished by a stopped process are resumed by `start()`.
 */
import { isRivuletError } from '../../kernel/errors.js';
import { buildPipelines } from './pipelines.js';
import type { PipelineRecord, RevisionDoc } from './revision-model.js';
import { failWithDependents } from './revision-model.js';
import type { SpecService } from './spec-service.js';

export interface ApplierLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: ApplierLog = { info: () => {}, error: () => {} };

export class SpecApplier {
  private chain: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly specs: SpecService,
    private readonly log: ApplierLog = silent,
  ) {}

  /** takes up new revisions from now on, and resumes the unfinished ones */
  start(): void {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = this.specs.onQueued((r) => this.enqueue(r.owner, r.dataset, r.revision));
    this.chain = this.chain
      .then(async () => {
        for (const r of await this.specs.revisions.unfinished()) this.enqueue(r.owner, r.dataset, r.revision);
      })
      .catch((err: unknown) => this.log.error({ err }, 'could not list unfinished spec revisions'));
  }

  enqueue(owner: string, dataset: string, revision: number): void {
    if (this.closed) return;
    this.chain = this.chain
      .then(() => this.run(owner, dataset, revision))
      .catch((err: unknown) => {
        this.log.error({ err, revision: `${owner}/${dataset}/${revision}` }, 'applying a spec revision failed');
      });
  }

  /** resolves once everything queued so far has run (tests, and the start-up folder) */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.chain;
      await seen;
    } while (seen !== this.chain);
  }

  /** stops taking revisions up and waits for the pipeline in flight; the rest resume on the next start */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.unsubscribe?.();
      await this.chain;
    })();
    return this.closing;
  }

  private now(): string {
    return this.specs.now();
  }

  private async run(owner: string, dataset: string, n: number): Promise<void> {
    let doc = await this.specs.revisions.revision(owner, dataset, n);
    if (!doc || doc.finishedAt !== null) return;
    if (doc.startedAt === null) doc = await this.begin(doc);
    while (!this.closed) {
      const next = runnable(doc);
      if (!next) break;
      doc = await this.runPipeline(doc, next);
    }
    await this.specs.finishIfDone(doc);
  }

  /** plans the revision against the world as it is now; external pipelines keep their reports */
  private async begin(doc: RevisionDoc): Promise<RevisionDoc> {
    const spec = this.specs.parse(doc.spec);
    let plan;
    try {
      plan = await this.specs.planFor(spec, doc.prune);
    } catch (err) {
      // a check that passed at upload may fail now (a kind's `prepare`: the URL guard changed):
      // run the pipelines planned at upload, each of which checks again and fails on its own
      if (!isRivuletError(err) || err.code === 'INTERNAL') throw err;
      return this.beginAsPlanned(doc, err.message);
    }
    const fresh = buildPipelines(doc.id, plan, spec.external);
    const now = this.now();
    return this.specs.revisions.updateRevision(doc.owner, doc.dataset, doc.revision, (d) => {
      if (d.startedAt !== null) return null;
      const reported = new Map(d.pipelines.filter((p) => p.runner === 'external').map((p) => [p.id, p]));
      d.pipelines = fresh.map((p) =>
        p.runner === 'external' && reported.has(p.id) ? { ...reported.get(p.id)!, dependencies: p.dependencies } : p,
      );
      d.orphans = plan.orphans;
      d.startedAt = now;
      d.updatedAt = now;
      d.logs.push(
        `${now} ${d.id}: applying ${plan.changes.length} change(s), ${plan.unchanged.length} unchanged${plan.orphans.length > 0 ? `, ${plan.orphans.length} kept without prune: ${plan.orphans.join(', ')}` : ''}`,
      );
      return d;
    });
  }

  private async beginAsPlanned(doc: RevisionDoc, problem: string): Promise<RevisionDoc> {
    const now = this.now();
    return this.specs.revisions.updateRevision(doc.owner, doc.dataset, doc.revision, (d) => {
      if (d.startedAt !== null) return null;
      d.startedAt = now;
      d.updatedAt = now;
      d.logs.push(`${now} ${d.id}: planning again failed (${problem}); running the pipelines planned at upload`);
      return d;
    });
  }

  private async runPipeline(doc: RevisionDoc, pipeline: PipelineRecord): Promise<RevisionDoc> {
    const started = this.now();
    await this.specs.revisions.updateRevision(doc.owner, doc.dataset, doc.revision, (d) => {
      const p = d.pipelines.find((x) => x.id === pipeline.id)!;
      p.status = 'INPROGRESS';
      p.startedAt = started;
      d.updatedAt = started;
      return d;
    });
    let outcome: { log: string[]; stats: PipelineRecord['stats'] } | null = null;
    let failure: string | null = null;
    try {
      outcome = await this.change(doc, pipeline);
    } catch (err) {
      if (isRivuletError(err) && err.code !== 'INTERNAL') failure = err.message;
      else {
        this.log.error({ err, pipeline: pipeline.id }, 'spec pipeline failed unexpectedly');
        failure = 'an unexpected error occurred; it has been logged';
      }
    }
    const now = this.now();
    return this.specs.revisions.updateRevision(doc.owner, doc.dataset, doc.revision, (d) => {
      const p = d.pipelines.find((x) => x.id === pipeline.id)!;
      d.updatedAt = now;
      if (outcome) {
        p.status = 'SUCCEEDED';
        p.finishedAt = now;
        p.stats = outcome.stats;
        p.log.push(...outcome.log);
        d.logs.push(...outcome.log.map((line) => `${now} ${p.id}: ${line}`));
      } else {
        d.logs.push(`${now} ${p.id}: failed: ${failure!}`);
        for (const id of failWithDependents(d.pipelines, p.id, [failure!], now))
          d.logs.push(`${now} ${id}: failed: dependency ${p.id} failed`);
      }
      return d;
    });
  }

  /** one resource change: read it, claim it for the dataset, change it, record what is managed */
  private async change(
    doc: RevisionDoc,
    pipeline: PipelineRecord,
  ): Promise<{ log: string[]; stats: PipelineRecord['stats'] }> {
    const kind = this.specs.kinds.find((k) => k.section === pipeline.kind)!;
    const key = pipeline.key!;
    const ref = `${kind.section}/${key}`;
    const ctx = this.specs.contextFor(doc.owner);
    const store = this.specs.revisions;
    const current = await kind.read(key, ctx);
    if (pipeline.action === 'delete') {
      const out = await kind.delete(key, current, ctx);
      await store.release(ref, doc.owner, doc.dataset);
      await store.updateDataset(doc.owner, doc.dataset, (d) =>
        d.managed.includes(ref) ? { ...d, managed: d.managed.filter((r) => r !== ref) } : null,
      );
      return { log: out.log, stats: out.stats ?? null };
    }
    const declared = this.specs.parse(doc.spec).resources.find((r) => r.kind === kind && r.key === key)!;
    const desired = kind.prepare ? await kind.prepare(declared.desired, declared.pointer, ctx) : declared.desired;
    const managedBefore = (await store.dataset(doc.owner, doc.dataset))?.managed.includes(ref) ?? false;
    await store.claim(ref, doc.owner, doc.dataset);
    let out;
    try {
      out = await kind.apply(desired, current, ctx);
    } catch (err) {
      // a resource the dataset never got to manage is not held on to
      if (!managedBefore) await store.release(ref, doc.owner, doc.dataset);
      throw err;
    }
    await store.updateDataset(doc.owner, doc.dataset, (d) =>
      d.managed.includes(ref) ? null : { ...d, managed: [...d.managed, ref] },
    );
    return { log: out.log, stats: out.stats ?? null };
  }
}

/** the first of Rivulet's pipelines whose dependencies all succeeded (INPROGRESS ones were cut short by a stop) */
function runnable(doc: RevisionDoc): PipelineRecord | undefined {
  const status = new Map(doc.pipelines.map((p) => [p.id, p.status]));
  return doc.pipelines.find(
    (p) =>
      p.runner === 'rivulet' &&
      (p.status === 'QUEUED' || p.status === 'INPROGRESS') &&
      p.dependencies.every((d) => status.get(d) === 'SUCCEEDED'),
  );
}
