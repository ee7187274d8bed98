/**
 * Which rules use an event source, an event type or an action target: the check behind
 * "a resource a rule uses cannot be deleted" (RESOURCE_IN_USE naming the rule), and the list
 * of rules to refresh when an action target changes. A scan of the rules collection: rules
 * are few next to events, and a scan needs no second index to keep in step.
 */
import { RivuletError } from '../../kernel/errors.js';
import type { DocumentStore } from '../../store/port.js';
import { RULES_COLLECTION, type RuleRecord } from './rule-model.js';

export type Reference = 'eventSourceId' | 'eventTypeId' | 'actionTargetId';

const PAGE = 500;

export async function rulesUsing(documents: DocumentStore, field: Reference, id: string): Promise<RuleRecord[]> {
  const found: RuleRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await documents.list<RuleRecord>(RULES_COLLECTION, { after, limit: PAGE });
    for (const doc of page) if (uses(doc.value, field, id)) found.push(doc.value);
    if (page.length < PAGE) return found;
    after = page[page.length - 1]!.key;
  }
}

/** Throws RESOURCE_IN_USE naming the first rule that uses the resource. */
export async function assertUnused(
  documents: DocumentStore,
  field: Reference,
  id: string,
  what: string,
): Promise<void> {
  const [rule] = await rulesUsing(documents, field, id);
  if (rule === undefined) return;
  throw new RivuletError(
    'RESOURCE_IN_USE',
    `${what} "${id}" is used by rule "${rule.id}"${rule.name === '' ? '' : ` (${rule.name})`}; change or delete the rule first`,
    {
      details: { rule: rule.id, ruleName: rule.name, [field]: id },
    },
  );
}

function uses(rule: RuleRecord, field: Reference, id: string): boolean {
  if (field === 'actionTargetId') return rule.actions.some((a) => a.actionTargetId === id);
  return rule.conditions.some((c) => c[field] === id);
}
