/**
 * Rules (iFLUX's event-condition-action rules) on Rivulet's delivery engine. A rule is a
 * document in `rules` plus the two sinks it runs as (see rule-model.ts and docs/rules.md):
 * `rule-<id>` evaluates events into the actions stream, `rule-<id>-actions` delivers them.
 * Enabling and disabling resume and pause both; stats, lag, attempts and dead letters are the
 * sinks'. References (event sources, event types, action targets) are resolved to what events
 * carry each time the rule is saved, and action target changes are pushed to the rules using them.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../kernel/clock.js';
import { RivuletError } from '../../kernel/errors.js';
import type { JsonValue, NewEvent, StoredEvent } from '../../kernel/envelope.js';
import { eventsFromJson } from '../events/native-input.js';
import { EMPTY_STATS, type AttemptRecord, type PolicyInput } from '../sinks/sink-model.js';
import type { SinkService } from '../sinks/sink-service.js';
import type { SinkView } from '../sinks/sink-model.js';
import type { StreamService } from '../streams/stream-service.js';
import type { DocumentStore, StartPosition } from '../../store/port.js';
import { compileRule, dryRun, type RuleAction, type RuleCondition } from './match.js';
import {
  ACTION_TARGETS_COLLECTION,
  EVENT_SOURCES_COLLECTION,
  EVENT_TYPES_COLLECTION,
  RULES_COLLECTION,
  actionSinkId,
  actionsStreamOf,
  asJson,
  endpointOf,
  ruleDeadLetterStreamOf,
  ruleSinkId,
  type ActionDispatchConfig,
  type ActionEndpoint,
  type ActionTargetRecord,
  type Actor,
  type EventSourceRecord,
  type EventTypeRecord,
  type RuleActionRef,
  type RuleConditionRef,
  type RuleRecord,
  type RuleStatus,
  type RuleTargetConfig,
  type RuleView,
} from './rule-model.js';
import { listOwned } from './owned-list.js';
import { rulesUsing } from './rule-references.js';
import {
  actionRefs,
  checkDelivery,
  checkId,
  checkStreams,
  checkText,
  conditionRefs,
  invalid,
} from './rule-validation.js';

export interface RuleInput {
  id?: string;
  name?: string;
  description?: string;
  enabled?: boolean;
  streams?: string[];
  conditions: RuleConditionRef[];
  actions: RuleActionRef[];
  delivery?: PolicyInput | null;
  /** where the rule starts reading (default: the end, events from now on) */
  start?: StartPosition;
}

export type RulePatch = Partial<
  Pick<RuleInput, 'name' | 'description' | 'streams' | 'conditions' | 'actions' | 'delivery'>
>;

/** One matched action as a dry run shows it: the body that would be sent, and where. */
export interface RenderedActionView {
  target: string;
  type: string;
  properties: JsonValue;
  url: string;
  method: string;
}

export interface RuleServiceDeps {
  documents: DocumentStore;
  streams: StreamService;
  sinks: SinkService;
  clock: Clock;
  /** the stream rules read when they name none (the iFLUX stream) */
  stream: string;
}

/** the rule's own sink: evaluating is cheap, so batches go at once and retries are quick */
const RULE_SINK_POLICY: PolicyInput = {
  batch: { maxEvents: 100, maxAgeMs: 0 },
  retry: { maxAttempts: 20, initialDelayMs: 100, maxDelayMs: 30_000 },
};

const SYSTEM: Actor = { owner: '', admin: true };

/**
 * A dialect's event shape a dry run's sample may take (iFLUX's `{timestamp, source, type,
 * properties}`): its events, or null when the sample is not in that shape.
 */
export type SampleShape = (sample: unknown, ctx: { producer: string | null; newId: () => string }) => NewEvent[] | null;

export class RuleService {
  private readonly sampleShapes: SampleShape[] = [];

  constructor(private readonly deps: RuleServiceDeps) {}

  /** teaches dry runs a dialect's event shape; samples in none of them are read as native events */
  addSampleShape(shape: SampleShape): void {
    this.sampleShapes.push(shape);
  }

  get defaultStream(): string {
    return this.deps.stream;
  }

  async create(input: RuleInput, actor: Actor): Promise<RuleView> {
    if (typeof input !== 'object' || input === null) throw invalid('a rule must be an object', '');
    const id = input.id === undefined ? randomUUID() : checkId(input.id, 'a rule');
    const now = this.now();
    const record: RuleRecord = {
      id,
      name: checkText(input.name, '/name', { max: 200 }),
      description: checkText(input.description, '/description', { max: 2000 }),
      owner: actor.owner,
      enabled: input.enabled ?? true,
      streams: checkStreams(input.streams, this.deps.stream),
      ...this.checkedDefinition(input.conditions, input.actions),
      delivery: checkDelivery(input.delivery),
      generation: 1,
      createdAt: now,
      updatedAt: now,
    };
    const resolved = await this.resolve(record, actor);
    for (const stream of record.streams) {
      if (stream === this.deps.stream)
        await this.deps.streams.ensure(
          { name: stream, description: 'events posted through the iFLUX API' },
          actor.owner,
        );
      else await this.deps.streams.require(stream);
    }
    try {
      await this.deps.documents.put(RULES_COLLECTION, id, record, { expectedVersion: 0 });
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'CONFLICT')
        throw new RivuletError('CONFLICT', `a rule "${id}" exists already`, { details: { pointer: '/id' } });
      throw err;
    }
    try {
      const state = record.enabled ? 'running' : 'paused';
      await this.deps.streams.ensureInternal(
        { name: actionsStreamOf(id), description: `actions of rule "${id}"` },
        actor.owner,
      );
      await this.deps.sinks.create(
        {
          id: actionSinkId(id),
          description: `delivers the actions of rule "${id}"`,
          streams: [actionsStreamOf(id)],
          target: asJson(resolved.dispatch),
          policy: record.delivery ?? {},
          start: { from: 'beginning' },
          state,
          labels: { rule: id, role: 'actions' },
        },
        actor.owner,
      );
      await this.deps.sinks.create(
        {
          id: ruleSinkId(id),
          description: `evaluates rule "${id}"`,
          streams: record.streams,
          target: asJson(resolved.target),
          policy: RULE_SINK_POLICY,
          deadLetterStream: ruleDeadLetterStreamOf(id),
          start: input.start ?? { from: 'end' },
          state,
          labels: { rule: id, role: 'rule' },
        },
        actor.owner,
      );
    } catch (err) {
      await this.removeRuns(id);
      await this.deps.documents.delete(RULES_COLLECTION, id);
      throw mapSinkError(err);
    }
    return this.describe(id, actor);
  }

  /** the stored rule, when the actor may see it */
  async get(id: string, actor: Actor): Promise<RuleRecord> {
    return (await this.document(id, actor)).value;
  }

  async describe(id: string, actor: Actor): Promise<RuleView> {
    const doc = await this.document(id, actor);
    return this.view(doc.value, doc.version);
  }

  async list(
    actor: Actor,
    options: { after?: string; limit: number },
  ): Promise<{ rules: RuleView[]; next: string | null }> {
    const page = await listOwned<RuleRecord>(this.deps.documents, RULES_COLLECTION, actor, options);
    const rules: RuleView[] = [];
    for (const record of page.items) {
      const doc = await this.deps.documents.get<RuleRecord>(RULES_COLLECTION, record.id);
      if (doc !== null) rules.push(await this.view(doc.value, doc.version));
    }
    return { rules, next: page.next };
  }

  /** Replaces the fields given; events evaluated from now on use the new definition. */
  async update(id: string, patch: RulePatch, actor: Actor, expectedVersion?: number): Promise<RuleView> {
    const doc = await this.document(id, actor);
    if (expectedVersion !== undefined && doc.version !== expectedVersion) {
      throw new RivuletError('CONFLICT', `rule "${id}" is at version ${doc.version}, not ${expectedVersion}`, {
        details: { version: doc.version },
      });
    }
    const current = doc.value;
    const next: RuleRecord = {
      ...current,
      ...(patch.name === undefined ? {} : { name: checkText(patch.name, '/name', { max: 200 }) }),
      ...(patch.description === undefined
        ? {}
        : { description: checkText(patch.description, '/description', { max: 2000 }) }),
      ...(patch.streams === undefined ? {} : { streams: checkStreams(patch.streams, this.deps.stream) }),
      ...this.checkedDefinition(patch.conditions ?? current.conditions, patch.actions ?? current.actions),
      ...(patch.delivery === undefined ? {} : { delivery: checkDelivery(patch.delivery) }),
      generation: current.generation + 1,
      updatedAt: this.now(),
    };
    // resolved as its owner would: an admin editing someone's rule cannot hand it others' targets
    const resolved = await this.resolve(
      next,
      actor.admin && current.owner !== actor.owner ? { owner: current.owner, admin: false } : actor,
    );
    await this.deps.documents.put(RULES_COLLECTION, id, next, { expectedVersion: doc.version });
    try {
      await this.deps.sinks.update(actionSinkId(id), {
        target: asJson(resolved.dispatch),
        ...(patch.delivery === undefined ? {} : { policy: next.delivery ?? {} }),
      });
      await this.deps.sinks.update(ruleSinkId(id), { streams: next.streams, target: asJson(resolved.target) });
    } catch (err) {
      throw mapSinkError(err);
    }
    return this.describe(id, actor);
  }

  /**
   * Starts (or restarts) the rule from a position: the end by default, or a time (a replay:
   * events from then on are evaluated again and their actions sent again).
   */
  async enable(id: string, actor: Actor, start: StartPosition = { from: 'end' }): Promise<RuleView> {
    const doc = await this.document(id, actor);
    const next: RuleRecord = {
      ...doc.value,
      enabled: true,
      generation: doc.value.generation + 1,
      updatedAt: this.now(),
    };
    const resolved = await this.resolve(next, SYSTEM);
    await this.deps.sinks.pause(ruleSinkId(id));
    await this.deps.sinks.update(ruleSinkId(id), { target: asJson(resolved.target) });
    await this.deps.sinks.seek(ruleSinkId(id), start);
    await this.deps.documents.put(RULES_COLLECTION, id, next, { expectedVersion: doc.version });
    await this.deps.sinks.resume(actionSinkId(id));
    await this.deps.sinks.resume(ruleSinkId(id));
    return this.describe(id, actor);
  }

  /** Stops evaluating and sending; actions already rendered wait in the actions stream. */
  async disable(id: string, actor: Actor): Promise<RuleView> {
    const doc = await this.document(id, actor);
    await this.deps.sinks.pause(ruleSinkId(id));
    await this.deps.sinks.pause(actionSinkId(id));
    await this.deps.documents.put(
      RULES_COLLECTION,
      id,
      { ...doc.value, enabled: false, updatedAt: this.now() },
      { expectedVersion: doc.version },
    );
    return this.describe(id, actor);
  }

  /** Deletes the rule, its sinks and its actions stream. Dead letters stay for inspection. */
  async delete(id: string, actor: Actor): Promise<void> {
    await this.document(id, actor);
    await this.removeRuns(id);
    await this.deps.documents.delete(RULES_COLLECTION, id);
  }

  /**
   * A dry run: evaluates the rule against a sample event (iFLUX `{timestamp, source, type,
   * properties}` or native `{type, source?, time?, data}`) and answers the matched conditions
   * and the actions that would be sent, rendered; RULE_NOT_MATCHED when no condition matched.
   * With `draft`, its conditions and actions (checked as a change would check them) stand in
   * for the stored ones, so a change is tried before it is saved; nothing is saved.
   */
  async validate(
    id: string,
    sample: unknown,
    actor: Actor,
    draft?: { conditions?: RuleConditionRef[]; actions?: RuleActionRef[] },
  ): Promise<{ matchedConditions: (RuleConditionRef & { index: number })[]; matchedActions: RenderedActionView[] }> {
    const stored = await this.get(id, actor);
    const rule =
      draft === undefined
        ? stored
        : {
            ...stored,
            ...this.checkedDefinition(draft.conditions ?? stored.conditions, draft.actions ?? stored.actions),
          };
    // a draft's references are resolved as its owner would resolve them on saving
    const resolved = await this.resolve(
      rule,
      draft === undefined
        ? SYSTEM
        : actor.admin && stored.owner !== actor.owner
          ? { owner: stored.owner, admin: false }
          : actor,
    );
    const event = sampleEvent(sample, rule.streams[0]!, this.now(), this.sampleShapes);
    const compiled = compileRule({ conditions: resolved.target.conditions, actions: resolved.target.actions });
    const result = await dryRun(compiled, event);
    return {
      matchedConditions: result.matchedConditions.map((index) => ({ index, ...rule.conditions[index]! })),
      matchedActions: result.matchedActions.map((a) => {
        const endpoint = resolved.dispatch.targets[a.actionTargetId]!;
        return {
          target: a.actionTargetId,
          type: a.actionTypeId,
          properties: a.properties,
          url: endpoint.url,
          method: endpoint.method,
        };
      }),
    };
  }

  /** The action deliveries' attempt log, newest first. */
  async attempts(id: string, actor: Actor, query: { limit: number }): Promise<AttemptRecord[]> {
    await this.document(id, actor);
    return this.deps.sinks.attempts(actionSinkId(id), query);
  }

  /** Sends the dead-lettered actions once more. */
  async retryDeadLetters(id: string, actor: Actor): Promise<number> {
    await this.document(id, actor);
    return (await this.deps.sinks.retryDeadLetters(actionSinkId(id))).length;
  }

  /** After an action target changed: every rule using it delivers with the new settings. */
  async refreshActionTarget(actionTargetId: string): Promise<void> {
    for (const rule of await rulesUsing(this.deps.documents, 'actionTargetId', actionTargetId)) {
      const resolved = await this.resolve(rule, SYSTEM);
      await this.deps.sinks.update(actionSinkId(rule.id), { target: asJson(resolved.dispatch) });
    }
  }

  // -------------------------------------------------------------------------------------

  /** compileRule checks the shape and compiles every expression (errors carry pointers) */
  private checkedDefinition(
    conditions: RuleConditionRef[],
    actions: RuleActionRef[],
  ): Pick<RuleRecord, 'conditions' | 'actions'> {
    compileRule({ conditions, actions } as never);
    return { conditions: conditionRefs(conditions), actions: actionRefs(actions) };
  }

  /** Every reference looked up, as the actor may see it; unknown ones are VALIDATION_FAILED naming the field. */
  private async resolve(
    rule: Pick<RuleRecord, 'id' | 'generation' | 'conditions' | 'actions'>,
    actor: Actor,
  ): Promise<{ target: RuleTargetConfig; dispatch: ActionDispatchConfig }> {
    const conditions: RuleCondition[] = [];
    for (const [i, c] of rule.conditions.entries()) {
      const source =
        c.eventSourceId === undefined
          ? undefined
          : await this.lookup<EventSourceRecord>(
              EVENT_SOURCES_COLLECTION,
              c.eventSourceId,
              actor,
              'event source',
              `/conditions/${i}/eventSourceId`,
            );
      const type =
        c.eventTypeId === undefined
          ? undefined
          : await this.lookup<EventTypeRecord>(
              EVENT_TYPES_COLLECTION,
              c.eventTypeId,
              actor,
              'event type',
              `/conditions/${i}/eventTypeId`,
            );
      conditions.push({
        ...(source === undefined ? {} : { eventSourceId: source.source }),
        ...(type === undefined ? {} : { eventTypeId: type.type }),
        ...(c.expression === undefined ? {} : { expression: c.expression }),
      });
    }
    const targets: Record<string, ActionEndpoint> = {};
    const actions: RuleAction[] = [];
    for (const [i, a] of rule.actions.entries()) {
      if (targets[a.actionTargetId] === undefined) {
        const target = await this.lookup<ActionTargetRecord>(
          ACTION_TARGETS_COLLECTION,
          a.actionTargetId,
          actor,
          'action target',
          `/actions/${i}/actionTargetId`,
        );
        targets[a.actionTargetId] = endpointOf(target);
      }
      actions.push({
        actionTargetId: a.actionTargetId,
        actionTypeId: a.actionTypeId,
        ...(a.transform === undefined ? {} : { transform: a.transform }),
      });
    }
    return {
      target: {
        kind: 'rule',
        rule: rule.id,
        generation: rule.generation,
        actionsStream: actionsStreamOf(rule.id),
        conditions,
        actions,
      },
      dispatch: { kind: 'rule-action', rule: rule.id, targets },
    };
  }

  private async lookup<T extends { owner: string }>(
    collection: string,
    id: string,
    actor: Actor,
    what: string,
    pointer: string,
  ): Promise<T> {
    const doc = await this.deps.documents.get<T>(collection, id);
    if (doc === null || (!actor.admin && doc.value.owner !== actor.owner))
      throw invalid(`there is no ${what} "${id}"`, pointer);
    return doc.value;
  }

  private async view(record: RuleRecord, version: number): Promise<RuleView> {
    const [rule, actions] = await Promise.all([
      this.sinkView(ruleSinkId(record.id)),
      this.sinkView(actionSinkId(record.id)),
    ]);
    const statuses = [rule?.status ?? 'stopped', actions?.status ?? 'stopped'];
    const status: RuleStatus = !record.enabled
      ? 'disabled'
      : statuses.includes('failing')
        ? 'failing'
        : statuses.every((s) => s === 'running')
          ? 'running'
          : 'stopped';
    return {
      ...record,
      version,
      status,
      actionsStream: actionsStreamOf(record.id),
      sinks: { rule: ruleSinkId(record.id), actions: actionSinkId(record.id) },
      stats: { events: rule?.stats ?? { ...EMPTY_STATS }, actions: actions?.stats ?? { ...EMPTY_STATS } },
      lag: { events: rule?.lag.pending ?? 0, actions: actions?.lag.pending ?? 0 },
    };
  }

  private async sinkView(id: string): Promise<SinkView | null> {
    try {
      return await this.deps.sinks.describe(id);
    } catch (err) {
      if (err instanceof RivuletError && err.code === 'SINK_NOT_FOUND') return null;
      throw err;
    }
  }

  private async removeRuns(id: string): Promise<void> {
    for (const sink of [ruleSinkId(id), actionSinkId(id)]) {
      await this.deps.sinks.delete(sink).catch(ignore('SINK_NOT_FOUND'));
    }
    await this.deps.streams.delete(actionsStreamOf(id)).catch(ignore('STREAM_NOT_FOUND'));
  }

  private async document(id: string, actor: Actor) {
    const doc = await this.deps.documents.get<RuleRecord>(RULES_COLLECTION, id);
    if (doc === null || (!actor.admin && doc.value.owner !== actor.owner)) {
      throw new RivuletError('RULE_NOT_FOUND', `there is no rule "${id}"`, { details: { rule: id } });
    }
    return doc;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function sampleEvent(sample: unknown, stream: string, now: string, shapes: readonly SampleShape[]): StoredEvent {
  let shaped: NewEvent[] | null = null;
  for (const shape of shapes) {
    shaped = shape(sample, { producer: null, newId: randomUUID });
    if (shaped) break;
  }
  const [event] = shaped ?? eventsFromJson(sample, { stream, producer: null, newId: randomUUID, now: () => now });
  if (event === undefined || Array.isArray(sample)) throw invalid('send one sample event (an object)', '');
  return {
    id: event.id,
    stream,
    seq: 0,
    typeSeq: 0,
    type: event.type,
    source: event.source,
    time: event.time,
    received: now,
    producer: null,
    data: event.data,
    meta: event.meta,
    schemaVersion: null,
  };
}

/** Errors of the rule's sinks name sink fields; the ones a rule's author can fix are mapped to theirs. */
function mapSinkError(err: unknown): unknown {
  if (!(err instanceof RivuletError) || typeof err.details?.pointer !== 'string') return err;
  const pointer = err.details.pointer;
  const mapped = pointer.startsWith('/policy')
    ? pointer.replace('/policy', '/delivery')
    : pointer.startsWith('/target')
      ? '/actions'
      : pointer;
  return new RivuletError(err.code, err.message, { details: { ...err.details, pointer: mapped }, cause: err });
}

function ignore(code: string) {
  return (err: unknown) => {
    if (err instanceof RivuletError && err.code === code) return;
    throw err;
  };
}
