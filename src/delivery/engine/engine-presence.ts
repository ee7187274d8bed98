/**
 * Which delivery engines are alive, so each can take a fair share of the sinks: every process
 * keeps one document in `sink-engines` (its holder name and an expiry), rewritten at each scan.
 * Each process writes only its own key, so the registry is no hot spot shared by processes;
 * a process that dies stops renewing and drops out once its entry expires, and entries long
 * expired are removed by whoever lists them.
 */
import { ENGINES_COLLECTION, type OwnerLease } from '../../core/sinks/sink-model.js';
import type { DocumentStore } from '../../store/port.js';

/** entries expired this many leases ago are deleted (a crashed process never removes its own) */
const FORGET_AFTER_LEASES = 10;

export class EnginePresence {
  constructor(
    private readonly documents: DocumentStore,
    readonly holder: string,
    private readonly leaseMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** renews this engine's entry and answers how many engines are alive, this one included */
  async beat(): Promise<number> {
    const now = this.now();
    await this.documents.put<OwnerLease>(ENGINES_COLLECTION, this.holder, {
      holder: this.holder,
      expiresAtMs: now + this.leaseMs,
    });
    let alive = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.documents.list<OwnerLease>(ENGINES_COLLECTION, { after, limit: 500 });
      for (const doc of page) {
        if (doc.key === this.holder || doc.value.expiresAtMs > now) alive++;
        else if (doc.value.expiresAtMs < now - FORGET_AFTER_LEASES * this.leaseMs) {
          await this.documents
            .delete(ENGINES_COLLECTION, doc.key, { expectedVersion: doc.version })
            .catch(() => undefined);
        }
      }
      if (page.length < 500) break;
      after = page[page.length - 1]!.key;
    }
    return Math.max(1, alive);
  }

  /** removes this engine's entry, so the others take its share at once (a graceful stop) */
  async leave(): Promise<void> {
    await this.documents.delete(ENGINES_COLLECTION, this.holder).catch(() => undefined);
  }
}

/**
 * A fixed, per-process order of the sinks (FNV-1a of holder and sink id): each process reaches
 * first for different sinks, so processes claiming at once rarely race for the same lease, and
 * the ones a process gives up first are those it ranks last.
 */
export function preference(holder: string, sinkId: string): number {
  let h = 0x811c9dc5;
  const s = `${holder}\u0000${sinkId}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
