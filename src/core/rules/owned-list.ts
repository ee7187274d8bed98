import type { DocumentStore } from '../../store/port.js';
import type { Actor } from './rule-model.js';

/** One page of a collection, only the actor's documents unless an admin asks. */
export async function listOwned<T extends { owner: string }>(
  documents: DocumentStore,
  collection: string,
  actor: Actor,
  options: { after?: string; limit: number },
): Promise<{ items: T[]; next: string | null }> {
  const items: T[] = [];
  let after = options.after;
  // filtering by owner may leave a page short: read on until it is full or the list ends
  for (;;) {
    const page = await documents.list<T>(collection, { after, limit: options.limit });
    for (const doc of page) {
      if (actor.admin || doc.value.owner === actor.owner) items.push(doc.value);
      if (items.length === options.limit) return { items, next: doc.key };
    }
    if (page.length < options.limit) return { items, next: null };
    after = page[page.length - 1]!.key;
  }
}
