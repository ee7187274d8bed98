/**
 * `actionTargets:` in a spec: where the spec's rules send actions (docs/rules.md), by id. Every
 * field is declarative. Credentials (auth, signing secrets, secret-looking headers) are compared
 * as stored and shown redacted; one written as `[redacted]`, as revisions are answered, stands
 * for the stored one (`prepare`). A changed target is pushed to the rules using it by the
 * ActionTargetService; one still used by a rule cannot be deleted (the rule's deletion, when
 * pruned together, goes first).
 */
import type { JsonObject, JsonValue } from '../../../kernel/envelope.js';
import { redactActionTarget } from '../../rules/action-target-service.js';
import type { ActionTargetRecord, Actor } from '../../rules/rule-model.js';
import {
  checkActionUrl,
  checkAuth,
  checkHeaders,
  checkId,
  checkMethod,
  checkSigning,
  checkText,
} from '../../rules/rule-validation.js';
import { canonicalJson } from '../canonical-json.js';
import type { ApplyOutcome, Diff, KindContext, SpecResourceKind } from '../resource-kind.js';
import type { FieldChange } from '../revision-model.js';
import { checkedEntry, checkedEntryAsync, isPlainObject, onlyFields, specInvalid } from '../spec-invalid.js';
import { REDACTED } from '../../../kernel/secret-names.js';
import { redactedUrl, restoredUrl } from '../../../kernel/secret-urls.js';
import { redactByName } from '../spec-secrets.js';
import { assertSpecOwns, deleteById, readById } from './owned-by-id.js';

export interface ActionTargetSpec extends JsonObject {
  id: string;
  name: string;
  description: string;
  url: string;
  method: string;
  /** auth, headers and signing: as written until `prepare`, then resolved and checked */
  auth: JsonObject | null;
  headers: Record<string, string>;
  signing: { secrets: string[] } | null;
}

const FIELDS = ['id', 'name', 'description', 'url', 'method', 'auth', 'headers', 'signing'] as const;
const COMPARED = ['name', 'description', 'url', 'method', 'auth', 'headers', 'signing'] as const;

function parse(entry: unknown, pointer: string): ActionTargetSpec {
  if (!isPlainObject(entry)) throw specInvalid('an action target is an object with "id", "name" and "url"', pointer);
  onlyFields(entry, FIELDS, pointer);
  return checkedEntry(
    () => ({
      id: checkId(entry.id, 'an action target'),
      name: checkText(entry.name, '/name', { max: 200, required: true }),
      description: checkText(entry.description, '/description', { max: 2000 }),
      url: checkActionUrl(entry.url),
      method: checkMethod(entry.method),
      auth: (entry.auth ?? null) as JsonObject | null,
      headers: (entry.headers ?? {}) as Record<string, string>,
      signing: (entry.signing ?? null) as { secrets: string[] } | null,
    }),
    pointer,
  );
}

/**
 * The secrets resolved against the action target's stored ones (of the spec's own owner) and
 * checked. The spec gives auth, headers and signing whole, so a secret it leaves out is removed;
 * one written as the placeholder revisions are answered with keeps the stored secret, so a spec
 * read back and uploaded again neither changes nor stores it.
 */
async function prepare(desired: ActionTargetSpec, pointer: string, ctx: KindContext): Promise<ActionTargetSpec> {
  const existing = await read(desired.id, ctx);
  const stored = existing !== null && existing.owner === ctx.owner ? existing : null;
  return checkedEntryAsync(async () => {
    const secrets = ctx.actionTargets.resolveSecrets(desired, stored, 'remove');
    const url = typeof desired.url === 'string' ? restoredUrl(desired.url, stored?.url, '/url') : desired.url;
    return {
      ...desired,
      url,
      auth: checkAuth(secrets.auth) as JsonObject | null,
      headers: checkHeaders(secrets.headers),
      signing: checkSigning(secrets.signing),
    };
  }, pointer);
}

function read(key: string, ctx: KindContext): Promise<ActionTargetRecord | null> {
  return readById((reader) => ctx.actionTargets.get(key, reader), 'NOT_FOUND');
}

const shown = (t: Pick<ActionTargetRecord, 'auth' | 'headers' | 'signing'>) =>
  redactActionTarget(t as ActionTargetRecord) as unknown as Record<string, JsonValue>;

function diff(desired: ActionTargetSpec | null, current: ActionTargetRecord | null): Diff {
  if (!desired)
    return current
      ? { action: 'delete', changes: [{ path: '', from: current.id }] }
      : { action: 'unchanged', changes: [] };
  const to = shown(desired as unknown as ActionTargetRecord);
  if (!current) {
    return {
      action: 'create',
      changes: COMPARED.filter((f) => !isEmpty(desired[f])).map((f) => ({ path: `/${f}`, to: to[f]! })),
    };
  }
  const from = shown(current);
  const changes: FieldChange[] = [];
  const have = current as unknown as Record<string, JsonValue>;
  for (const f of COMPARED) {
    if (canonicalJson(desired[f]) !== canonicalJson(have[f]))
      changes.push({ path: `/${f}`, from: from[f]!, to: to[f]! });
  }
  return { action: changes.length > 0 ? 'update' : 'unchanged', changes };
}

function isEmpty(v: unknown): boolean {
  return v === '' || v === null || (isPlainObject(v) && Object.keys(v).length === 0);
}

async function apply(
  desired: ActionTargetSpec,
  current: ActionTargetRecord | null,
  ctx: KindContext,
): Promise<ApplyOutcome> {
  const actor: Actor = { owner: ctx.owner, admin: false };
  const settings = {
    name: desired.name,
    description: desired.description,
    url: desired.url,
    method: desired.method,
    auth: desired.auth,
    headers: desired.headers,
    signing: desired.signing,
  };
  if (!current) {
    await ctx.actionTargets.create({ id: desired.id, ...settings }, actor);
    return { log: [`created action target "${desired.id}"`] };
  }
  assertSpecOwns('action target', 'actionTarget', desired.id, current.owner, ctx.owner);
  const { action, changes } = diff(desired, current);
  if (action === 'unchanged') return { log: [`action target "${desired.id}" already as declared`] };
  await ctx.actionTargets.update(desired.id, settings, actor);
  return { log: [`updated action target "${desired.id}": ${changes.map((c) => c.path.slice(1)).join(', ')}`] };
}

async function remove(key: string, current: ActionTargetRecord | null, ctx: KindContext): Promise<ApplyOutcome> {
  if (!current) return { log: [`action target "${key}" already gone`] };
  await deleteById((reader) => ctx.actionTargets.delete(key, reader), 'NOT_FOUND');
  return { log: [`deleted action target "${key}"`] };
}

/** the entry as uploaded with its credentials replaced; header names stay, their values go when secret-looking */
function shownEntry(entry: JsonObject): JsonObject {
  const out: JsonObject = { ...entry };
  if (typeof entry.url === 'string') out.url = redactedUrl(entry.url);
  if (entry.auth !== undefined && entry.auth !== null) out.auth = redactByName(entry.auth);
  if (isPlainObject(entry.signing) && Array.isArray(entry.signing.secrets))
    out.signing = { secrets: entry.signing.secrets.map(() => REDACTED) };
  if (entry.headers !== undefined) out.headers = redactByName(entry.headers);
  return out;
}

export const actionTargetKind: SpecResourceKind<ActionTargetSpec, ActionTargetRecord> = {
  section: 'actionTargets',
  noun: 'action target',
  parse,
  prepare,
  shown: shownEntry,
  key: (d) => d.id,
  read,
  diff,
  apply,
  delete: remove,
  dependencies: () => [],
  streamsOf: () => [],
};
