/**
 * Which process delivers a sink: a lease document in `sink-owners` (holder, expiry), taken
 * and renewed with optimistic concurrency (`expectedVersion`), so it works on every store
 * that implements the DocumentStore port. A holder that dies stops renewing; another
 * process takes the sink over once the lease has expired.
 */
import { RivuletError } from '../../kernel/errors.js';
import { OWNERS_COLLECTION, type OwnerLease } from '../../core/sinks/sink-model.js';
import type { DocumentStore } from '../../store/port.js';

export class OwnerLeases {
  constructor(
    private readonly documents: DocumentStore,
    readonly holder: string,
    private readonly leaseMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** takes or renews the lease of `sinkId`; false when another live process holds it */
  async claim(sinkId: string): Promise<boolean> {
    const doc = await this.documents.get<OwnerLease>(OWNERS_COLLECTION, sinkId);
    const now = this.now();
    if (doc !== null && doc.value.holder !== this.holder && doc.value.expiresAtMs > now) return false;
    try {
      await this.documents.put<OwnerLease>(
        OWNERS_COLLECTION,
        sinkId,
        { holder: this.holder, expiresAtMs: now + this.leaseMs },
        { expectedVersion: doc?.version ?? 0 },
      );
      return true;
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONFLICT') return false;
      throw err;
    }
  }

  /** gives the lease up at once, so another process need not wait for it to expire */
  async release(sinkId: string): Promise<void> {
    const doc = await this.documents.get<OwnerLease>(OWNERS_COLLECTION, sinkId);
    if (doc === null || doc.value.holder !== this.holder) return;
    await this.documents.delete(OWNERS_COLLECTION, sinkId, { expectedVersion: doc.version }).catch(() => undefined);
  }
}
