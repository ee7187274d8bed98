/**
 * Revisions, datasets and claims on the DocumentStore port.
 *
 *   spec-revisions  <owner>/<dataset>/<revision, 10 digits>  the revision (spec, pipelines, logs)
 *   spec-datasets   <owner>/<dataset>                        latest number (a hint), managed resources
 *   spec-owners     <owner>                                  the owner's datasets (the plan limit)
 *   spec-claims     <section>/<key>                          which dataset manages a resource
 *
 * Numbering: revision N is written with `expectedVersion: 0`, so of two uploads that both
 * chose N only one succeeds; the other tries N + 1. Numbers have no gaps, whichever store
 * sits behind the port. Every read-modify-write goes through `expectedVersion` and retries.
 */
import { RivuletError } from '../../kernel/errors.js';
import type { DocumentStore } from '../../store/port.js';
import type { RevisionDoc } from './revision-model.js';

const REVISIONS = 'spec-revisions';
const DATASETS = 'spec-datasets';
const OWNERS = 'spec-owners';
const CLAIMS = 'spec-claims';
const ATTEMPTS = 50;

export interface DatasetDoc {
  owner: string;
  dataset: string;
  /** the highest revision number known to be taken; revisions above it are probed */
  latest: number;
  /** refs (`streams/orders`) of the resources this dataset's revisions created or adopted */
  managed: string[];
  /** when a scheduled check last compared the latest revision with the world (`meta.schedule`) */
  scheduleCheckedAt?: string;
  createdAt: string;
  updatedAt: string;
}

interface OwnerDoc {
  owner: string;
  datasets: string[];
}

export interface Claim {
  owner: string;
  dataset: string;
}

const datasetKey = (owner: string, dataset: string) => `${owner}/${dataset}`;
export const revisionKey = (owner: string, dataset: string, n: number) =>
  `${owner}/${dataset}/${String(n).padStart(10, '0')}`;

function isConflict(err: unknown): boolean {
  return err instanceof RivuletError && err.code === 'CONFLICT';
}

export class RevisionStore {
  constructor(private readonly docs: DocumentStore) {}

  async dataset(owner: string, dataset: string): Promise<DatasetDoc | null> {
    return (await this.docs.get<DatasetDoc>(DATASETS, datasetKey(owner, dataset)))?.value ?? null;
  }

  async datasets(owner?: string): Promise<DatasetDoc[]> {
    return (await this.docs.list<DatasetDoc>(DATASETS, owner === undefined ? {} : { prefix: `${owner}/` })).map(
      (d) => d.value,
    );
  }

  /**
   * Makes room for a dataset of `owner`: a dataset that exists already always has room; a new
   * one only while the owner has fewer than `limit` (0 = no limit). Fails with PLAN_LIMIT.
   */
  async reserveDataset(owner: string, dataset: string, limit: number, now: string): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const doc = await this.docs.get<OwnerDoc>(OWNERS, owner);
      const datasets = doc?.value.datasets ?? [];
      if (!datasets.includes(dataset)) {
        if (limit > 0 && datasets.length >= limit) {
          throw new RivuletError(
            'PLAN_LIMIT',
            `owner "${owner}" has ${datasets.length} datasets, the plan limit (${limit}); a new dataset is refused`,
            { details: { owner, limit } },
          );
        }
        try {
          await this.docs.put<OwnerDoc>(
            OWNERS,
            owner,
            { owner, datasets: [...datasets, dataset] },
            { expectedVersion: doc?.version ?? 0 },
          );
        } catch (err) {
          if (isConflict(err)) continue;
          throw err;
        }
      }
      try {
        await this.docs.put<DatasetDoc>(
          DATASETS,
          datasetKey(owner, dataset),
          { owner, dataset, latest: 0, managed: [], createdAt: now, updatedAt: now },
          { expectedVersion: 0 },
        );
      } catch (err) {
        if (!isConflict(err)) throw err; // it exists: fine
      }
      return;
    }
    throw new RivuletError('CONFLICT', `too many concurrent changes to the datasets of "${owner}"; retry`);
  }

  /** Writes the next revision of the dataset; `build(n)` makes its document. */
  async createRevision(owner: string, dataset: string, build: (n: number) => RevisionDoc): Promise<RevisionDoc> {
    let n = (await this.latestNumber(owner, dataset)) + 1;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++, n++) {
      const doc = build(n);
      try {
        await this.docs.put(REVISIONS, revisionKey(owner, dataset, n), doc, { expectedVersion: 0 });
      } catch (err) {
        if (isConflict(err)) continue; // another upload took n
        throw err;
      }
      await this.updateDataset(owner, dataset, (d) =>
        d.latest >= n ? null : { ...d, latest: n, updatedAt: doc.createdAt },
      );
      return doc;
    }
    throw new RivuletError('CONFLICT', `too many concurrent uploads for ${owner}/${dataset}; retry`);
  }

  /** the latest revision's number; `known`: the dataset document when the caller has just read it */
  async latestNumber(owner: string, dataset: string, known?: DatasetDoc | null): Promise<number> {
    let n = (known === undefined ? await this.dataset(owner, dataset) : known)?.latest ?? 0;
    // the hint may lag behind (a process stopped between the two writes): probe past it
    while (await this.docs.get(REVISIONS, revisionKey(owner, dataset, n + 1))) n++;
    return n;
  }

  async revision(owner: string, dataset: string, n: number): Promise<RevisionDoc | null> {
    return (await this.docs.get<RevisionDoc>(REVISIONS, revisionKey(owner, dataset, n)))?.value ?? null;
  }

  /** every revision of the dataset, oldest first */
  async revisions(owner: string, dataset: string): Promise<RevisionDoc[]> {
    return (await this.docs.list<RevisionDoc>(REVISIONS, { prefix: `${owner}/${dataset}/` })).map((d) => d.value);
  }

  /** revisions not finished yet, of every dataset (to resume after a restart) */
  async unfinished(): Promise<RevisionDoc[]> {
    return (await this.docs.list<RevisionDoc>(REVISIONS)).map((d) => d.value).filter((r) => r.finishedAt === null);
  }

  /**
   * Read-modify-write of one revision under `expectedVersion`, retried on conflict. `change`
   * answers the new document, or null to leave it as it is.
   */
  async updateRevision(
    owner: string,
    dataset: string,
    n: number,
    change: (doc: RevisionDoc) => RevisionDoc | null,
  ): Promise<RevisionDoc> {
    const key = revisionKey(owner, dataset, n);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.docs.get<RevisionDoc>(REVISIONS, key);
      if (!current)
        throw new RivuletError('SPEC_NOT_FOUND', `${owner}/${dataset} has no revision ${n}`, {
          details: { owner, dataset, revision: n },
        });
      const next = change(structuredClone(current.value));
      if (!next) return current.value;
      try {
        await this.docs.put(REVISIONS, key, next, { expectedVersion: current.version });
        return next;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    throw new RivuletError('CONFLICT', `revision ${owner}/${dataset}/${n} is changing too often; retry`);
  }

  async updateDataset(owner: string, dataset: string, change: (doc: DatasetDoc) => DatasetDoc | null): Promise<void> {
    const key = datasetKey(owner, dataset);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.docs.get<DatasetDoc>(DATASETS, key);
      if (!current) return;
      const next = change(structuredClone(current.value));
      if (!next) return;
      try {
        await this.docs.put(DATASETS, key, next, { expectedVersion: current.version });
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    throw new RivuletError('CONFLICT', `dataset ${owner}/${dataset} is changing too often; retry`);
  }

  async claimOf(ref: string): Promise<Claim | null> {
    return (await this.docs.get<Claim>(CLAIMS, ref))?.value ?? null;
  }

  /** Makes the dataset the manager of `ref`; fails with CONFLICT when another dataset is. */
  async claim(ref: string, owner: string, dataset: string): Promise<void> {
    const existing = await this.docs.get<Claim>(CLAIMS, ref);
    if (existing) {
      if (existing.value.owner === owner && existing.value.dataset === dataset) return;
      throw new RivuletError(
        'CONFLICT',
        `${ref} is managed by dataset ${existing.value.owner}/${existing.value.dataset}`,
        { details: { resource: ref, managedBy: `${existing.value.owner}/${existing.value.dataset}` } },
      );
    }
    try {
      await this.docs.put<Claim>(CLAIMS, ref, { owner, dataset }, { expectedVersion: 0 });
    } catch (err) {
      if (isConflict(err)) return this.claim(ref, owner, dataset);
      throw err;
    }
  }

  async release(ref: string, owner: string, dataset: string): Promise<void> {
    const existing = await this.docs.get<Claim>(CLAIMS, ref);
    if (existing && existing.value.owner === owner && existing.value.dataset === dataset) {
      await this.docs.delete(CLAIMS, ref, { expectedVersion: existing.version }).catch((err: unknown) => {
        if (!isConflict(err)) throw err;
      });
    }
  }
}
