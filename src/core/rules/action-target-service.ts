/**
 * Action targets (iFLUX): where rules send actions. A URL, a method (POST by default), auth
 * (basic or bearer), extra headers and Standard Webhooks signing secrets. They are delivered by
 * the `http` target machinery, so the same checks apply when one is saved (the URL guard
 * refuses loopback and private addresses unless the operator allowed them). Secrets are never
 * answered: views carry `[redacted]` in their place.
 */
import type { Clock } from '../clock.js';
import { RivuletError } from '../errors.js';
import type { SinkChecks } from '../sinks/sink-model.js';
import type { DocumentStore } from '../../store/port.js';
import { ACTION_TARGETS_COLLECTION, endpointOf, type Actor, type ActionTargetRecord } from './rule-model.js';
import { listOwned } from './owned-list.js';
import { assertUnused } from './rule-references.js';
import { checkActionUrl, checkAuth, checkHeaders, checkId, checkMethod, checkSigning, checkText, newResourceId } from './rule-validation.js';

export const REDACTED = '[redacted]';
const SECRET_HEADER = /auth|key|token|secret|cookie|signature|password/i;

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
    const now = this.deps.clock.now().toISOString();
    const record = await this.checked({
      id,
      name: checkText(input.name, '/name', { max: 200, required: true }),
      description: checkText(input.description, '/description', { max: 2000 }),
      owner: actor.owner,
      url: checkActionUrl(input.url),
      method: checkMethod(input.method),
      auth: checkAuth(input.auth),
      headers: checkHeaders(input.headers),
      signing: checkSigning(input.signing),
      createdAt: now,
      updatedAt: now,
    });
    try {
      await this.deps.documents.put(ACTION_TARGETS_COLLECTION, id, record, { expectedVersion: 0 });
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONFLICT') throw new RivuletError('CONFLICT', `an action target "${id}" exists already`, { details: { pointer: '/id' } });
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

  async list(actor: Actor, options: { after?: string; limit: number }): Promise<{ items: ActionTargetRecord[]; next: string | null }> {
    return listOwned<ActionTargetRecord>(this.deps.documents, ACTION_TARGETS_COLLECTION, actor, options);
  }

  /** Fields given replace the stored ones (auth, headers and signing whole); the rules using it are refreshed. */
  async update(id: string, patch: Partial<Omit<ActionTargetInput, 'id'>>, actor: Actor): Promise<ActionTargetRecord> {
    const current = await this.get(id, actor);
    const next = await this.checked({
      ...current,
      ...(patch.name === undefined ? {} : { name: checkText(patch.name, '/name', { max: 200, required: true }) }),
      ...(patch.description === undefined ? {} : { description: checkText(patch.description, '/description', { max: 2000 }) }),
      ...(patch.url === undefined ? {} : { url: checkActionUrl(patch.url) }),
      ...(patch.method === undefined ? {} : { method: checkMethod(patch.method) }),
      ...(patch.auth === undefined ? {} : { auth: checkAuth(patch.auth) }),
      ...(patch.headers === undefined ? {} : { headers: checkHeaders(patch.headers) }),
      ...(patch.signing === undefined ? {} : { signing: checkSigning(patch.signing) }),
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

  /** Runs the http target's checks (signing secrets, the URL guard), pointers mapped to this resource. */
  private async checked(record: ActionTargetRecord): Promise<ActionTargetRecord> {
    try {
      await this.deps.checks.target('http', { kind: 'http', ...endpointOf(record) });
    } catch (err) {
      if (!(err instanceof RivuletError)) throw err;
      const pointer = typeof err.details?.pointer === 'string' ? err.details.pointer : '';
      throw new RivuletError(err.code, err.message, { details: { ...err.details, pointer: ownPointer(pointer) }, cause: err });
    }
    return record;
  }
}

/** The action target as it may be shown: secrets replaced. */
export function redactActionTarget(target: ActionTargetRecord): ActionTargetRecord {
  return {
    ...target,
    auth: target.auth === null ? null : target.auth.type === 'basic' ? { ...target.auth, password: REDACTED } : { ...target.auth, token: REDACTED },
    headers: Object.fromEntries(Object.entries(target.headers).map(([k, v]) => [k, SECRET_HEADER.test(k) ? REDACTED : v])),
    signing: target.signing === null ? null : { secrets: target.signing.secrets.map(() => REDACTED) },
  };
}

function ownPointer(pointer: string): string {
  const rest = pointer.replace(/^\/target/, '');
  if (rest.startsWith('/basic_auth') || rest.startsWith('/token')) return '/auth';
  return rest;
}

function notFound(id: string): RivuletError {
  return new RivuletError('NOT_FOUND', `there is no action target "${id}"`, { details: { actionTarget: id } });
}
