/**
 * The iFLUX model on Rivulet: event sources, event types, action targets and rules, as stored
 * documents, and the names of what a rule runs on (docs/rules.md).
 *
 * A rule runs as two sinks:
 * - `rule-<id>` reads the rule's source streams; its `rule` target evaluates the conditions and
 *   writes each matched action, rendered, as one event into the rule's actions stream
 *   `_rule.<id>.actions`, under an id derived from (rule, generation, event, action), so a
 *   redelivered event does not write its actions twice;
 * - `rule-<id>-actions` reads the actions stream; its `rule-action` target POSTs
 *   `{target, type, properties}` to each action's target. Each action is retried and
 *   dead-lettered on its own, and a delivered action is never sent again because another failed.
 *
 * The target configurations below are plain JSON built here and checked by the delivery
 * layer's `rule` and `rule-action` targets (src/delivery/rules/).
 */
import type { JsonObject } from '../../kernel/envelope.js';
import type { PolicyInput, SinkStats, SinkStatus } from '../sinks/sink-model.js';
import type { ActionTargetSecrets } from './action-target-secrets.js';
import type { RuleAction, RuleCondition } from './match.js';

export const EVENT_SOURCES_COLLECTION = 'rule-event-sources';
export const EVENT_SOURCE_IDS_COLLECTION = 'rule-event-source-public-ids';
export const EVENT_TYPES_COLLECTION = 'rule-event-types';
export const EVENT_TYPE_NAMES_COLLECTION = 'rule-event-type-names';
export const ACTION_TARGETS_COLLECTION = 'rule-action-targets';
export const RULES_COLLECTION = 'rules';

/** Who asks: the owner their resources get, and whether they see everyone's. */
export interface Actor {
  owner: string;
  admin: boolean;
}

export interface EventSourceRecord {
  id: string;
  name: string;
  description: string;
  owner: string;
  /** the generated public identifier */
  publicId: string;
  /** what its events carry as `source`: `/event-sources/<publicId>` */
  source: string;
  createdAt: string;
  updatedAt: string;
}

export interface EventTypeRecord {
  id: string;
  name: string;
  description: string;
  owner: string;
  /** what its events carry as `type`: a name or URL such as `/eventTypes/temperature` */
  type: string;
  /** the stream its JSON Schema is registered on (the rules' default stream) */
  stream: string;
  createdAt: string;
  updatedAt: string;
}

export type { ActionAuth, ActionTargetSecrets, GivenActionTargetSecrets } from './action-target-secrets.js';

export interface ActionTargetRecord extends ActionTargetSecrets {
  id: string;
  name: string;
  description: string;
  owner: string;
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  createdAt: string;
  updatedAt: string;
}

/** A condition as stored: references to an event source and an event type by id. */
export interface RuleConditionRef {
  eventSourceId?: string;
  eventTypeId?: string;
  expression?: string;
}

/** An action as stored: a reference to an action target by id. */
export interface RuleActionRef {
  actionTargetId: string;
  actionTypeId: string;
  transform?: string;
}

export interface RuleRecord {
  id: string;
  name: string;
  description: string;
  owner: string;
  enabled: boolean;
  /** the streams whose events the rule sees */
  streams: string[];
  conditions: RuleConditionRef[];
  actions: RuleActionRef[];
  /** the action deliveries' policy (retries, timeout, concurrency, rate limit) */
  delivery: PolicyInput | null;
  /** bumped by each change and each enable: events evaluated again write their actions again */
  generation: number;
  createdAt: string;
  updatedAt: string;
}

export type RuleStatus = 'disabled' | Exclude<SinkStatus, 'paused'>;

/** A rule as the API answers it: its record with its sinks' state. */
export interface RuleView extends RuleRecord {
  version: number;
  status: RuleStatus;
  actionsStream: string;
  sinks: { rule: string; actions: string };
  /** `events`: the rule's sink (events evaluated); `actions`: the action deliveries */
  stats: { events: SinkStats; actions: SinkStats };
  lag: { events: number; actions: number };
}

/** The `rule` target's configuration: the rule with every reference resolved to what events carry. */
export interface RuleTargetConfig {
  kind: 'rule';
  rule: string;
  generation: number;
  actionsStream: string;
  conditions: RuleCondition[];
  actions: RuleAction[];
}

/** How one action target is called: the settings of an `http` target, without its mapping. */
export interface ActionEndpoint {
  url: string;
  method: string;
  basic_auth?: { user: string; pw: string };
  token?: string;
  headers: Record<string, string>;
  signing?: { secrets: string[] };
}

/** The `rule-action` target's configuration: the endpoints of the action targets the rule uses. */
export interface ActionDispatchConfig {
  kind: 'rule-action';
  rule: string;
  targets: Record<string, ActionEndpoint>;
}

/** What an action event in the actions stream holds, and what is POSTed to the action target. */
export interface ActionMessage {
  target: string;
  type: string;
  properties: unknown;
}

export function ruleSinkId(ruleId: string): string {
  return `rule-${ruleId}`;
}

export function actionSinkId(ruleId: string): string {
  return `rule-${ruleId}-actions`;
}

export function actionsStreamOf(ruleId: string): string {
  return `_rule.${ruleId}.actions`;
}

/** where the rule's sink puts events it could not evaluate (a transform that failed on them) */
export function ruleDeadLetterStreamOf(ruleId: string): string {
  return `_rule.${ruleId}.dlq`;
}

/** the http target settings of an action target */
export function endpointOf(
  target: Pick<ActionTargetRecord, 'url' | 'method' | 'auth' | 'headers' | 'signing'>,
): ActionEndpoint {
  return {
    url: target.url,
    method: target.method,
    headers: { ...target.headers },
    ...(target.auth?.type === 'basic' ? { basic_auth: { user: target.auth.user, pw: target.auth.password } } : {}),
    ...(target.auth?.type === 'bearer' ? { token: `Bearer ${target.auth.token}` } : {}),
    ...(target.signing === null ? {} : { signing: { secrets: [...target.signing.secrets] } }),
  };
}

/** JSON as the document store and the sink model want it (these records hold JSON only). */
export function asJson<T>(value: T): JsonObject & T {
  return value as JsonObject & T;
}
