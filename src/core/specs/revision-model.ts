/**
 * A revision: one uploaded spec, numbered per dataset from 1, and the pipelines that apply
 * it. A pipeline is one resource change run by Rivulet, or one external pipeline a runner
 * reports on. The revision's state is never stored: it derives from its pipelines.
 */
import type { JsonObject, JsonValue } from '../../kernel/envelope.js';

export type ChangeAction = 'create' | 'update' | 'delete' | 'unchanged';

/** One field that differs between what a spec wants and what exists; absent sides are left out. */
export interface FieldChange {
  /** JSON Pointer into the resource, '' for the whole of it */
  path: string;
  from?: JsonValue;
  to?: JsonValue;
}

export type PipelineStatus = 'QUEUED' | 'INPROGRESS' | 'SUCCEEDED' | 'FAILED';
export type RevisionState = PipelineStatus;

export interface PipelineRecord {
  /** `<owner>/<dataset>/<revision>/<section>/<key>` */
  id: string;
  title: string;
  runner: 'rivulet' | 'external';
  /** the resource it changes (null for external pipelines) */
  kind: string | null;
  key: string | null;
  action: Exclude<ChangeAction, 'unchanged'> | null;
  changes: FieldChange[];
  /** ids of pipelines that must succeed first */
  dependencies: string[];
  status: PipelineStatus;
  stats: JsonObject | null;
  errors: string[];
  log: string[];
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RevisionStats {
  /** bytes of the events in the dataset's streams when the revision finished */
  bytes: number;
  /** events in the dataset's streams when the revision finished */
  countOfRows: number;
  datasetName: string;
  /** SHA-256 of the spec's canonical JSON */
  hash: string;
}

export interface RevisionDoc {
  owner: string;
  dataset: string;
  revision: number;
  /** `<owner>/<dataset>/<revision>` */
  id: string;
  spec: JsonObject;
  hash: string;
  prune: boolean;
  /** what queued it: an upload, or a scheduled check that found the world drifted (absent on revisions stored before schedules ran) */
  trigger?: 'upload' | 'schedule';
  createdAt: string;
  updatedAt: string;
  /** set when the applier took the revision up (its resource pipelines are then final) */
  startedAt: string | null;
  finishedAt: string | null;
  pipelines: PipelineRecord[];
  /** `<time> <pipeline id>: <line>` for every line any pipeline logged */
  logs: string[];
  errors: string[];
  stats: RevisionStats | null;
  /** resources removed from the spec but kept, because the revision was not applied with prune */
  orphans: string[];
}

export const isFinished = (p: PipelineRecord): boolean => p.status === 'SUCCEEDED' || p.status === 'FAILED';

/**
 * Any running → INPROGRESS; some pending and some finished → INPROGRESS; all pending → QUEUED;
 * any failed → FAILED; else (no pipelines at all, too) SUCCEEDED.
 */
export function revisionState(pipelines: readonly PipelineRecord[]): RevisionState {
  if (pipelines.some((p) => p.status === 'INPROGRESS')) return 'INPROGRESS';
  const queued = pipelines.some((p) => p.status === 'QUEUED');
  if (queued) return pipelines.some(isFinished) ? 'INPROGRESS' : 'QUEUED';
  return pipelines.some((p) => p.status === 'FAILED') ? 'FAILED' : 'SUCCEEDED';
}

export function dependencyFailure(id: string): string {
  return `Dependency unsuccessful. Cannot run until dependency "${id}" is successfully executed`;
}

/**
 * Marks `failedId` failed and, transitively, every queued pipeline that depends on it.
 * Answers the ids failed because of a dependency. Mutates `pipelines`.
 */
export function failWithDependents(
  pipelines: PipelineRecord[],
  failedId: string,
  errors: string[],
  now: string,
): string[] {
  const failed = pipelines.find((p) => p.id === failedId);
  if (!failed) return [];
  failed.status = 'FAILED';
  failed.errors = [...failed.errors, ...errors];
  failed.finishedAt = now;
  const cascaded: string[] = [];
  const pending = [failedId];
  while (pending.length > 0) {
    const cause = pending.shift()!;
    for (const p of pipelines) {
      if (p.status !== 'QUEUED' || !p.dependencies.includes(cause)) continue;
      p.status = 'FAILED';
      p.errors = [...p.errors, dependencyFailure(cause)];
      p.finishedAt = now;
      cascaded.push(p.id);
      pending.push(p.id);
    }
  }
  return cascaded;
}

/** A revision's state; one with no pipelines is QUEUED until the applier took it up. */
export function stateOf(doc: Pick<RevisionDoc, 'pipelines' | 'startedAt'>): RevisionState {
  if (doc.startedAt === null && doc.pipelines.length === 0) return 'QUEUED';
  return revisionState(doc.pipelines);
}
