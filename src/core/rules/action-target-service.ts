/**
 * Action targets (iFLUX): where rules send actions. A URL, a method (POST by default), auth
 * (basic or bearer), extra headers and Standard Webhooks signing secrets. They are delivered by
 * the `http` target machinery, so the same checks apply when one is saved (the URL guard
 * refuses loopback and private addresses unless the operator allowed them). Secrets are never
 * answered: views carry `[redacted]` in their place, and that placeholder given back on a save
 * stands for the stored secret (resolved by the delivery layer like a sink target's, see
 * `resolveSecrets`), so it is never stored as one.
 */
import type { Clock } from '../../kernel/clock.js';
import { RivuletError } from '../../kernel/errors.js';
import { REDACTED, redactedHeaders } from '../../kernel/secret-names.js';
import { redactedUrl, restoredUrl } from '../../kernel/secret-urls.js';
import type { OmittedSecrets, SinkChecks } from '../sinks/sink-model.js';
import type { DocumentStore } from '../../store/port.js';
import {
  ACTION_TARGETS_COLLECTION,
  endpointOf,
  type Actor,
  type ActionTargetRecord,
  type ActionTargetSecrets,
  type GivenActionTargetSecrets,
} from './rule-model.js';
import { listOwned } from './owned-list.js';
import { assertUnused } from './rule-references.js';
import {
  checkActionUrl,
  checkAuth,
  checkHeaders,
  checkId,
  checkMethod,
  checkSigning,
  checkText,
  newResourceId,
} from './rule-validation.js';

/** headers whose values are answered as the placeholder, and so resolved when it comes back */

export interface ActionTargetInput {
  id?: string;
  name?: string;
  description?: string;
  url: string;
  method?: string;
  auth?: unknown;
  headers?: unknown;
  signing?: unknown;
}

export type ActionTargetChange = (id: string) => Promise<void>;

export interface ActionTargetDeps {
  documents: DocumentStore;
  clock: Clock;
  /** the delivery layer's checks: the http target's settings and the URL guard */
  checks: SinkChecks;
}

export class ActionTargetService {
  private readonly listeners: ActionTargetChange[] = [];

  constructor(private readonly deps: ActionTargetDeps) {}

  /** called after an action target changed (rules using it refresh their delivery) */
  onChange(listener: ActionTargetChange): void {
    this.listeners.push(listener);
  }

  async create(input: ActionTargetInput, actor: Actor): Promise<ActionTargetRecord> {
    const id = input.id === undefined ? newResourceId() : checkId(input.id, 'an action target');
    const secrets = this.resolveSecrets(input, null, 'remove');
    const now = this.deps.clock.now().toISOString();
    const record = await this.checked({
      id,
      name: checkText(input.name, '/name', { max: 200, required: true }),
      description: checkText(input.description, '/description', { max: 2000 }),
      owner: actor.owner,
      url: checkActionUrl(restoredActionUrl(input.url, null)),
      method: checkMethod(input.method),
      auth: checkAuth(secrets.auth),
      headers: checkHeaders(secrets.headers),
      signing: checkSigning(secrets.signing),
      createdAt: now,
      updatedAt: now,
    });
    try {
      await this.deps.documents.put(ACTION_TARGETS_COLLECTION, id, record, { expectedVersion: 0 });
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONFLICT')
        throw new RivuletError('CONFLICT', `an action target "${id}" exists already`, { details: { pointer: '/id' } });
      throw err;
    }
    return record;
  }

  /** the stored record, secrets included: for delivery, never for answers */
  async get(id: string, actor: Actor): Promise<ActionTargetRecord> {
    const doc = await this.deps.documents.get<ActionTargetRecord>(ACTION_TARGETS_COLLECTION, id);
    if (doc === null || (!actor.admin && doc.value.owner !== actor.owner)) throw notFound(id);
    return doc.value;
  }

  async list(
    actor: Actor,
    options: { after?: string; limit: number },
  ): Promise<{ items: ActionTargetRecord[]; next: string | null }> {
    return listOwned<ActionTargetRecord>(this.deps.documents, ACTION_TARGETS_COLLECTION, actor, options);
  }

  /**
   * Fields given replace the stored ones; the secrets in a given auth, headers or signing are
   * resolved against the stored ones first (`resolveSecrets`), one left out kept with
   * `omittedSecrets: 'keep'` (the native PATCH) or removed (the default: a spec gives them
   * whole). The rules using it are refreshed.
   */
  async update(
    id: string,
    patch: Partial<Omit<ActionTargetInput, 'id'>>,
    actor: Actor,
    options: { omittedSecrets?: OmittedSecrets } = {},
  ): Promise<ActionTargetRecord> {
    const current = await this.get(id, actor);
    const secrets = this.resolveSecrets(patch, current, options.omittedSecrets ?? 'remove');
    const next = await this.checked({
      ...current,
      ...(patch.name === undefined ? {} : { name: checkText(patch.name, '/name', { max: 200, required: true }) }),
      ...(patch.description === undefined
        ? {}
        : { description: checkText(patch.description, '/description', { max: 2000 }) }),
      ...(patch.url === undefined ? {} : { url: checkActionUrl(restoredActionUrl(patch.url, current.url)) }),
      ...(patch.method === undefined ? {} : { method: checkMethod(patch.method) }),
      ...(patch.auth === undefined ? {} : { auth: checkAuth(secrets.auth) }),
      ...(patch.headers === undefined ? {} : { headers: checkHeaders(secrets.headers) }),
      ...(patch.signing === undefined ? {} : { signing: checkSigning(secrets.signing) }),
      updatedAt: this.deps.clock.now().toISOString(),
    });
    await this.deps.documents.put(ACTION_TARGETS_COLLECTION, id, next);
    for (const listener of this.listeners) await listener(id);
    return next;
  }

  /** Refused (RESOURCE_IN_USE naming the rule) while a rule's action names it. */
  async delete(id: string, actor: Actor): Promise<void> {
    await this.get(id, actor);
    await assertUnused(this.deps.documents, 'actionTargetId', id, 'action target');
    await this.deps.documents.delete(ACTION_TARGETS_COLLECTION, id);
  }

  /**
   * `auth`, `headers` and `signing` as given (unchecked), their secrets resolved against
   * `stored` (null: none, as on create) like a sink target's: `[redacted]` keeps the stored
   * secret (VALIDATION_FAILED naming the field when there is none, or it is of another auth
   * type), null removes, a new value replaces, one left out is kept or removed as `omitted`
   * says. Answers them unchecked, for the caller's checks.
   */
  resolveSecrets(
    given: GivenActionTargetSecrets,
    stored: ActionTargetSecrets | null,
    omitted: OmittedSecrets,
  ): GivenActionTargetSecrets {
    const { auth, headers, signing } = given;
    try {
      return this.deps.checks.actionTargetSecrets({ auth, headers, signing }, stored, omitted);
    } catch (err) {
      throw inOwnTerms(err);
    }
  }

  /** Runs the http target's checks (signing secrets, the URL guard), pointers mapped to this resource. */
  private async checked(record: ActionTargetRecord): Promise<ActionTargetRecord> {
    try {
      await this.deps.checks.target('http', { kind: 'http', ...endpointOf(record) });
    } catch (err) {
      throw inOwnTerms(err);
    }
    return record;
  }
}

/** an error of the delivery layer's checks, its pointer (under `/target`) mapped to this resource */
function inOwnTerms(err: unknown): unknown {
  if (!(err instanceof RivuletError)) return err;
  const pointer = typeof err.details?.pointer === 'string' ? err.details.pointer : '';
  return new RivuletError(err.code, err.message, {
    details: { ...err.details, pointer: ownPointer(pointer) },
    cause: err,
  });
}

/** The action target as it may be shown: secrets replaced. */
export function redactActionTarget(target: ActionTargetRecord): ActionTargetRecord {
  return {
    ...target,
    url: typeof target.url === 'string' ? redactedUrl(target.url) : target.url,
    auth:
      target.auth === null
        ? null
        : target.auth.type === 'basic'
          ? { ...target.auth, password: REDACTED }
          : { ...target.auth, token: REDACTED },
    headers: redactedHeaders(target.headers),
    signing: target.signing === null ? null : { secrets: target.signing.secrets.map(() => REDACTED) },
  };
}

/** a URL given on a save: `[redacted]` where the stored URL had a secret keeps it (secret-urls.ts) */
function restoredActionUrl(given: unknown, stored: string | null): unknown {
  return typeof given === 'string' ? restoredUrl(given, stored, '/url') : given;
}

function ownPointer(pointer: string): string {
  const rest = pointer.replace(/^\/target/, '');
  if (rest.startsWith('/basic_auth') || rest.startsWith('/token')) return '/auth';
  return rest;
}

function notFound(id: string): RivuletError {
  return new RivuletError('NOT_FOUND', `there is no action target "${id}"`, { details: { actionTarget: id } });
}
