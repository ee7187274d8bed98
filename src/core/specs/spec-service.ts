/**
 * Specs: validate and authorise an uploaded spec, store it as the dataset's next revision with
 * the pipelines that apply it, answer revisions (a number, `latest`, `successful`), plan
 * without changing anything, and take reports of external pipelines. Applying is the
 * applier's work (`spec-applier.ts`), told about each new revision through `onQueued`.
 */
import { RivuletError } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import type { JsonObject, JsonValue } from '../../kernel/envelope.js';
import type { Principal } from '../keys/key-service.js';
import type { SchemaRegistry } from '../schemas/schema-registry.js';
import type { StreamService } from '../streams/stream-service.js';
import type { ActionTargetService } from '../rules/action-target-service.js';
import type { EventSourceService } from '../rules/event-source-service.js';
import type { RuleService } from '../rules/rule-service.js';
import type { SinkService } from '../sinks/sink-service.js';
import type { Store } from '../../store/port.js';
import { DEFAULT_KINDS } from './kinds/index.js';
import { buildPipelines } from './pipelines.js';
import { planSpec, type Plan } from './planner.js';
import type { KindContext, SpecResourceKind } from './resource-kind.js';
import { dependencyFailure, failWithDependents, isFinished, stateOf, type RevisionDoc } from './revision-model.js';
import { RevisionStore, type DatasetDoc } from './revision-store.js';
import { NAME, parseSpec, type ParsedSpec } from './spec-model.js';
import { shownSpec } from './spec-secrets.js';
import type { SpecSection } from './spec-section.js';

/** The services the sink and rule kinds change the world through. */
export interface SpecDeliveryServices {
  sinks: SinkService;
  rules: RuleService;
  eventSources: EventSourceService;
  actionTargets: ActionTargetService;
}

export type RevisionSelector = number | 'latest' | 'successful';

/** what a scheduled check found or did */
export type ScheduledCheck =
  | { outcome: 'not-scheduled' | 'running' | 'checked-elsewhere' | 'unchanged' }
  | { outcome: 'not-due'; dueAt: string }
  | { outcome: 'queued'; revision: RevisionDoc };

export interface SpecServiceOptions {
  /** most datasets per owner; 0 = no limit */
  planLimit: number;
  kinds?: readonly SpecResourceKind[];
  /** top-level sections kept as uploaded, whose pipelines external runners report on (a dialect's) */
  sections?: readonly SpecSection[];
}

export interface PipelineReport {
  pipeline: string;
  event: 'queue' | 'start' | 'progress' | 'finish';
  success?: boolean;
  errors?: string[];
  log?: string[];
  stats?: JsonObject;
}

export const REPORT_EVENTS = ['queue', 'start', 'progress', 'finish'] as const;

export interface PlanView {
  dataset: string;
  prune: boolean;
  changes: {
    action: 'create' | 'update' | 'delete';
    kind: string;
    key: string;
    ref: string;
    title: string;
    changes: { path: string; from?: JsonValue; to?: JsonValue }[];
    after: string[];
  }[];
  unchanged: string[];
  orphans: string[];
  summary: { create: number; update: number; delete: number; unchanged: number };
}

/** the key may act for `owner`: it is an admin key, or one of that owner */
export function assertOwner(principal: Principal, owner: string): void {
  if (!principal.admin && principal.owner !== owner) {
    throw new RivuletError('FORBIDDEN', `a key of owner "${principal.owner}" is not authorised for owner "${owner}"`, {
      details: { reason: 'owner', owner },
    });
  }
}

export class SpecService {
  readonly revisions: RevisionStore;
  readonly kinds: readonly SpecResourceKind[];
  readonly sections: readonly SpecSection[];
  private readonly listeners = new Set<(revision: RevisionDoc) => void>();

  constructor(
    private readonly store: Store,
    private readonly streams: StreamService,
    private readonly schemas: SchemaRegistry,
    private readonly clock: Clock,
    private readonly options: SpecServiceOptions,
    private readonly delivery: SpecDeliveryServices,
  ) {
    this.revisions = new RevisionStore(store.documents);
    this.kinds = options.kinds ?? DEFAULT_KINDS;
    this.sections = options.sections ?? [];
  }

  now(): string {
    return this.clock.now().toISOString();
  }

  get planLimit(): number {
    return this.options.planLimit;
  }

  parse(contents: unknown): ParsedSpec {
    return parseSpec(contents, this.kinds, this.sections);
  }

  contextFor(owner: string): KindContext {
    return { store: this.store, streams: this.streams, schemas: this.schemas, ...this.delivery, owner };
  }

  /** the revision as answers show it: secrets in the spec (a sink's token, …) replaced */
  shown(doc: RevisionDoc): RevisionDoc {
    return { ...doc, spec: shownSpec(doc.spec, this.kinds, this.sections) };
  }

  /** the owner must match, and a key that is not admin needs `manage` on every stream the spec touches */
  authorize(principal: Principal, spec: ParsedSpec): void {
    assertOwner(principal, spec.meta.owner);
    if (principal.admin) return;
    for (const r of spec.resources) {
      for (const stream of r.kind.streamsOf(r.key, r.desired)) {
        if (!principal.can('manage', stream)) {
          throw new RivuletError('FORBIDDEN', `this key lacks manage access to stream "${stream}" (${r.pointer})`, {
            details: { needs: `manage:${stream}`, pointer: r.pointer },
          });
        }
      }
    }
  }

  async planFor(spec: ParsedSpec, prune: boolean): Promise<Plan> {
    const managed = (await this.revisions.dataset(spec.meta.owner, spec.meta.dataset))?.managed ?? [];
    return planSpec(spec, managed, { prune, kinds: this.kinds, ctx: this.contextFor(spec.meta.owner) });
  }

  /** What applying the spec would do, changing nothing. */
  async plan(contents: unknown, principal: Principal, options: { prune: boolean }): Promise<PlanView> {
    const spec = this.parse(contents);
    this.authorize(principal, spec);
    return planView(spec, await this.planFor(spec, options.prune), options.prune);
  }

  /** Stores the spec as the dataset's next revision, with its pipelines queued. */
  async upload(contents: unknown, principal: Principal, options: { prune: boolean }): Promise<RevisionDoc> {
    const spec = this.parse(contents);
    this.authorize(principal, spec);
    const now = this.clock.now().toISOString();
    await this.revisions.reserveDataset(spec.meta.owner, spec.meta.dataset, this.options.planLimit, now);
    // planned now so the revision shows its pipelines at once; planned again when it starts
    return this.queueRevision(spec, options.prune, await this.planFor(spec, options.prune), 'upload');
  }

  /**
   * The scheduled check of a dataset whose latest revision has `meta.schedule`: when the
   * schedule is due (its interval since the revision finished or since the last check), the
   * latest revision is planned against the world again; if anything drifted (a resource
   * changed or deleted outside the spec, a pipeline that failed), the same document is queued
   * as the next revision (`trigger: "schedule"`) to put it back. Each due check is claimed by
   * compare-and-set on the dataset, so of several processes one does it.
   */
  async scheduledCheck(owner: string, dataset: string, listed?: DatasetDoc): Promise<ScheduledCheck> {
    // a document just listed will do: the claim below is a compare-and-set on it anyway
    const known = listed ?? (await this.revisions.dataset(owner, dataset));
    if (!known) return { outcome: 'not-scheduled' };
    const latest = await this.revisions.revision(
      owner,
      dataset,
      await this.revisions.latestNumber(owner, dataset, known),
    );
    if (!latest) return { outcome: 'not-scheduled' };
    let spec: ParsedSpec;
    try {
      spec = this.parse(latest.spec);
    } catch {
      // stored before a rule that now refuses it: nothing to re-apply on a schedule
      return { outcome: 'not-scheduled' };
    }
    const seconds = spec.meta.scheduleSeconds;
    if (seconds === null) return { outcome: 'not-scheduled' };
    if (latest.finishedAt === null) return { outcome: 'running' };
    const nowMs = this.clock.now().getTime();
    const since = Math.max(
      Date.parse(latest.finishedAt),
      known.scheduleCheckedAt ? Date.parse(known.scheduleCheckedAt) : 0,
    );
    if (nowMs - since < seconds * 1000)
      return { outcome: 'not-due', dueAt: new Date(since + seconds * 1000).toISOString() };
    let claimed = false;
    const checkedAt = new Date(nowMs).toISOString();
    await this.revisions.updateDataset(owner, dataset, (doc) => {
      // another process checked first: its check stands for this one
      claimed = doc.scheduleCheckedAt === known.scheduleCheckedAt;
      return claimed ? { ...doc, scheduleCheckedAt: checkedAt } : null;
    });
    if (!claimed) return { outcome: 'checked-elsewhere' };
    const plan = await this.planFor(spec, latest.prune);
    if (plan.changes.length === 0) return { outcome: 'unchanged' };
    return { outcome: 'queued', revision: await this.queueRevision(spec, latest.prune, plan, 'schedule') };
  }

  private async queueRevision(
    spec: ParsedSpec,
    prune: boolean,
    plan: Plan,
    trigger: RevisionDoc['trigger'],
  ): Promise<RevisionDoc> {
    const { owner, dataset } = spec.meta;
    const now = this.clock.now().toISOString();
    const doc = await this.revisions.createRevision(owner, dataset, (n) => {
      const id = `${owner}/${dataset}/${n}`;
      return {
        owner,
        dataset,
        revision: n,
        id,
        spec: spec.contents,
        hash: spec.hash,
        prune,
        trigger,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        finishedAt: null,
        pipelines: buildPipelines(id, plan, spec.external),
        logs: [],
        errors: [],
        stats: null,
        orphans: plan.orphans,
      };
    });
    for (const listener of this.listeners) listener(doc);
    return doc;
  }

  /** calls `listener` with every revision uploaded through this service; answers an unsubscribe */
  onQueued(listener: (revision: RevisionDoc) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async get(owner: string, dataset: string, which: RevisionSelector): Promise<RevisionDoc> {
    const found = await this.find(owner, dataset, which);
    if (!found) {
      const what =
        typeof which === 'number' ? `revision ${which}` : which === 'latest' ? 'revisions' : 'successful revision';
      throw new RivuletError('SPEC_NOT_FOUND', `${owner}/${dataset} has no ${what}`, {
        details: { owner, dataset, revision: which },
      });
    }
    return found;
  }

  private async find(owner: string, dataset: string, which: RevisionSelector): Promise<RevisionDoc | null> {
    if (!NAME.test(owner) || !NAME.test(dataset)) return null;
    if (typeof which === 'number') return this.revisions.revision(owner, dataset, which);
    if (which === 'latest') {
      const n = await this.revisions.latestNumber(owner, dataset);
      return n === 0 ? null : this.revisions.revision(owner, dataset, n);
    }
    const all = await this.revisions.revisions(owner, dataset);
    return all.reverse().find((r) => stateOf(r) === 'SUCCEEDED') ?? null;
  }

  async datasets(owner?: string): Promise<DatasetDoc[]> {
    return this.revisions.datasets(owner);
  }

  /** An external runner's report on one of its pipelines. */
  async report(report: PipelineReport, principal: Principal): Promise<RevisionDoc> {
    const m = /^([^/]+)\/([^/]+)\/([1-9][0-9]{0,9})\//.exec(report.pipeline);
    const notFound = () =>
      new RivuletError('SPEC_NOT_FOUND', `pipeline "${report.pipeline}" does not exist`, {
        details: { reason: 'pipeline', pipeline: report.pipeline },
      });
    if (!m) throw notFound();
    const [, owner, dataset, number] = m as unknown as [string, string, string, string];
    const existing = await this.revisions.revision(owner, dataset, Number(number));
    if (!existing?.pipelines.some((p) => p.id === report.pipeline)) throw notFound();
    assertOwner(principal, owner);
    const now = this.clock.now().toISOString();
    const updated = await this.revisions.updateRevision(owner, dataset, Number(number), (doc) => {
      const p = doc.pipelines.find((x) => x.id === report.pipeline)!;
      if (p.runner !== 'external')
        throw new RivuletError(
          'CONFLICT',
          `pipeline "${p.id}" is run by Rivulet; only external pipelines are reported on`,
          { details: { pipeline: p.id } },
        );
      if (isFinished(p))
        throw new RivuletError('CONFLICT', `pipeline "${p.id}" already finished (${p.status})`, {
          details: { pipeline: p.id, status: p.status },
        });
      if (report.event !== 'queue') {
        const waiting = p.dependencies.find((d) => doc.pipelines.find((x) => x.id === d)?.status !== 'SUCCEEDED');
        if (waiting)
          throw new RivuletError('CONFLICT', dependencyFailure(waiting), {
            details: { pipeline: p.id, dependency: waiting },
          });
      }
      p.log.push(...(report.log ?? []));
      doc.logs.push(...(report.log ?? []).map((line) => `${now} ${p.id}: ${line}`));
      if (report.stats) p.stats = report.stats;
      if (report.event === 'queue') p.status = 'QUEUED';
      else if (report.event !== 'finish') {
        p.status = 'INPROGRESS';
        p.startedAt ??= now;
        p.errors.push(...(report.errors ?? []));
      } else if (report.success) {
        p.status = 'SUCCEEDED';
        p.finishedAt = now;
        p.errors.push(...(report.errors ?? []));
      } else {
        failWithDependents(doc.pipelines, p.id, report.errors ?? [], now);
      }
      doc.updatedAt = now;
      return doc;
    });
    return this.finishIfDone(updated);
  }

  /**
   * Once every pipeline finished (and the applier took the revision up), the revision gets
   * its stats — events and bytes in the dataset's streams, and the spec's hash — and its errors.
   */
  async finishIfDone(doc: RevisionDoc): Promise<RevisionDoc> {
    if (doc.finishedAt !== null || doc.startedAt === null || !doc.pipelines.every(isFinished)) return doc;
    let bytes = 0;
    let rows = 0;
    for (const r of this.parse(doc.spec).resources) {
      if (r.kind.section !== 'streams' || !(await this.store.streams.get(r.key))) continue;
      const s = await this.store.events.stats(r.key);
      bytes += s.bytes;
      rows += s.count;
    }
    const now = this.clock.now().toISOString();
    return this.revisions.updateRevision(doc.owner, doc.dataset, doc.revision, (d) => {
      if (d.finishedAt !== null) return null;
      d.finishedAt = now;
      d.updatedAt = now;
      d.stats = { bytes, countOfRows: rows, datasetName: d.dataset, hash: d.hash };
      d.errors = d.pipelines.flatMap((p) => p.errors);
      return d;
    });
  }
}

export function planView(spec: ParsedSpec, plan: Plan, prune: boolean): PlanView {
  const count = (a: string) => plan.changes.filter((c) => c.action === a).length;
  return {
    dataset: `${spec.meta.owner}/${spec.meta.dataset}`,
    prune,
    changes: plan.changes.map((c) => ({
      action: c.action,
      kind: c.kind.section,
      key: c.key,
      ref: c.ref,
      title: `${c.action} ${c.kind.noun} ${c.key}`,
      changes: c.changes,
      after: c.after,
    })),
    unchanged: plan.unchanged,
    orphans: plan.orphans,
    summary: {
      create: count('create'),
      update: count('update'),
      delete: count('delete'),
      unchanged: plan.unchanged.length,
    },
  };
}
