/**
 * The `rule` target: the first half of a rule (docs/rules.md). For each event it evaluates the
 * rule's conditions (iFLUX semantics, src/core/rules/match.ts) and writes every matched action,
 * rendered by its transform, as one event into the rule's actions stream, through the same
 * produce path as the API. An action event's id is derived from (rule, generation, source
 * stream, seq, action index) and marked as supplied, so a redelivered event does not write its
 * actions twice, while a replay (a new generation) writes them again.
 *
 * Outcomes: an event that matched nothing is done (success); one whose transform failed
 * cannot succeed later (permanent: the rule's dead-letter stream keeps it with the error);
 * a failed write is retried.
 */
import { createHash } from 'node:crypto';
import { isRivuletError } from '../../kernel/errors.js';
import type { JsonObject, NewEvent, StoredEvent } from '../../kernel/envelope.js';
import type { ProduceService } from '../../core/events/produce.js';
import { compileRule, type CompiledRule } from '../../core/rules/match.js';
import type { ActionMessage, RuleTargetConfig } from '../../core/rules/rule-model.js';
import { isStreamName } from '../../core/streams/stream-name.js';
import { describeError } from '../targets/http-target.js';
import { invalidTarget } from '../targets/target-config.js';
import type { BatchOutcome, DeliveryItem, DeliveryTarget, ItemOutcome, TargetFactory } from '../targets/target.js';

export type RuleTargetSettings = RuleTargetConfig & JsonObject;

function check(input: unknown): RuleTargetSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalidTarget('the rule target configuration must be an object', '/target');
  const c = input as Partial<RuleTargetConfig> & Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!['kind', 'rule', 'generation', 'actionsStream', 'conditions', 'actions'].includes(key))
      throw invalidTarget(`${key} is not a setting of the rule target`, `/target/${key}`);
  }
  if (typeof c.rule !== 'string' || c.rule === '') throw invalidTarget('rule must name the rule', '/target/rule');
  if (!Number.isSafeInteger(c.generation) || (c.generation as number) < 0)
    throw invalidTarget('generation must be a whole number', '/target/generation');
  if (typeof c.actionsStream !== 'string' || !isStreamName(c.actionsStream))
    throw invalidTarget('actionsStream must be a stream name', '/target/actionsStream');
  // compiles every expression: a mistake is refused when the rule is saved, with its pointer
  compileRule({
    conditions: c.conditions as RuleTargetConfig['conditions'],
    actions: c.actions as RuleTargetConfig['actions'],
  });
  return {
    kind: 'rule',
    rule: c.rule,
    generation: c.generation as number,
    actionsStream: c.actionsStream,
    conditions: c.conditions!,
    actions: c.actions!,
  } as RuleTargetSettings;
}

class RuleTarget implements DeliveryTarget {
  readonly kind = 'rule' as const;
  readonly maxBatchEvents = 500;
  private readonly compiled: CompiledRule;

  constructor(
    private readonly config: RuleTargetSettings,
    private readonly produce: ProduceService,
  ) {
    this.compiled = compileRule({ conditions: config.conditions, actions: config.actions });
  }

  async deliver(items: readonly DeliveryItem[]): Promise<BatchOutcome> {
    const started = performance.now();
    const outcomes: ItemOutcome[] = [];
    const writes: { index: number; events: NewEvent[] }[] = [];
    for (const [index, item] of items.entries()) {
      try {
        const events = await this.actionEvents(item.event);
        outcomes.push({ outcome: 'success' });
        if (events.length > 0) writes.push({ index, events });
      } catch (err) {
        outcomes.push({ outcome: 'permanent', error: `the rule could not render its actions: ${describeError(err)}` });
      }
    }
    const events = writes.flatMap((w) => w.events);
    const bytes = events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.data)), 0);
    if (events.length > 0) {
      const failure = await this.write(events);
      if (failure !== null) for (const w of writes) outcomes[w.index] = failure;
    }
    return { items: outcomes, latencyMs: performance.now() - started, bytes, detail: { actions: events.length } };
  }

  private async actionEvents(event: StoredEvent): Promise<NewEvent[]> {
    const evaluation = await this.compiled.evaluate(event);
    return evaluation.matchedActions.map((action, i) => {
      const message: ActionMessage = {
        target: action.actionTargetId,
        type: action.actionTypeId,
        properties: action.properties,
      };
      return {
        id: createHash('sha256')
          .update(`${this.config.rule}\n${this.config.generation}\n${event.stream}\n${event.seq}\n${i}`)
          .digest('hex')
          .slice(0, 32),
        idSupplied: true,
        type: action.actionTypeId,
        source: event.source,
        time: event.time,
        producer: null,
        data: message as unknown as JsonObject,
        meta: {
          rule: this.config.rule,
          action: i,
          conditions: evaluation.matchedConditions,
          origin: { stream: event.stream, seq: event.seq, id: event.id },
        },
      };
    });
  }

  private async write(events: NewEvent[]): Promise<ItemOutcome | null> {
    try {
      await this.produce.produceInternal({ stream: this.config.actionsStream, events, producer: null });
      return null;
    } catch (err) {
      const error = isRivuletError(err) ? `${err.code}: ${err.message}` : describeError(err);
      // an actions stream that is gone (the rule is being deleted) or full may come back: retried
      return { outcome: 'retry', error: error.slice(0, 500) };
    }
  }

  async close(): Promise<void> {}
}

export const ruleTarget: TargetFactory<RuleTargetSettings> = {
  kind: 'rule',
  check,
  redact: (config) => ({ ...config }),
  writesTo: (config) => [config.actionsStream],
  create(config, deps) {
    if (deps.produce === undefined) throw new Error('the rule target needs the produce service');
    return new RuleTarget(config, deps.produce);
  },
};
