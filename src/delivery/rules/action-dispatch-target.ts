/**
 * The `rule-action` target: the second half of a rule (docs/rules.md). Each event of the
 * rule's actions stream is one action `{target, type, properties}`; it is sent as that JSON
 * body to its action target through an `http` target built from the action target's URL,
 * method, auth, headers and signing secrets. So every action is one delivery of its own:
 * retried, dead-lettered and logged alone, with a `webhook-id` stable across its retries.
 */
import type { JsonObject } from '../../kernel/envelope.js';
import type { ActionDispatchConfig, ActionEndpoint, ActionMessage } from '../../core/rules/rule-model.js';
import { httpTarget, type HttpTargetConfig } from '../targets/http-target.js';
import { invalidTarget } from '../targets/target-config.js';
import type {
  BatchOutcome,
  DeliverContext,
  DeliveryItem,
  DeliveryTarget,
  TargetDeps,
  TargetFactory,
} from '../targets/target.js';

export type ActionDispatchSettings = ActionDispatchConfig & JsonObject;

/** the body is `{target, type, properties}` of the action event's data, nothing else */
const ACTION_BODY = { target: '$.msg.target', type: '$.msg.type', properties: '$.msg.properties' };

function httpConfigOf(endpoint: ActionEndpoint): HttpTargetConfig {
  return httpTarget.check({ ...endpoint, kind: 'http', datamap: ACTION_BODY, json_body: Object.keys(ACTION_BODY) });
}

function check(input: unknown): ActionDispatchSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalidTarget('the rule-action target configuration must be an object', '/target');
  const c = input as Partial<ActionDispatchConfig> & Record<string, unknown>;
  for (const key of Object.keys(c))
    if (!['kind', 'rule', 'targets'].includes(key))
      throw invalidTarget(`${key} is not a setting of the rule-action target`, `/target/${key}`);
  if (typeof c.rule !== 'string' || c.rule === '') throw invalidTarget('rule must name the rule', '/target/rule');
  if (typeof c.targets !== 'object' || c.targets === null || Array.isArray(c.targets))
    throw invalidTarget('targets must map action target ids to endpoints', '/target/targets');
  const targets: Record<string, ActionEndpoint> = {};
  for (const [id, endpoint] of Object.entries(c.targets)) {
    const { datamap: _d, json_body: _j, constant: _c, query_params: _q, kind: _k, ...plain } = httpConfigOf(endpoint);
    targets[id] = {
      url: plain.url,
      method: plain.method,
      headers: plain.headers,
      ...(plain.basic_auth === null ? {} : { basic_auth: plain.basic_auth }),
      ...(plain.token === null ? {} : { token: plain.token }),
      ...(plain.signing === null ? {} : { signing: plain.signing }),
    };
  }
  return { kind: 'rule-action', rule: c.rule, targets } as ActionDispatchSettings;
}

function redact(config: ActionDispatchSettings): JsonObject {
  const targets = Object.fromEntries(
    Object.entries(config.targets).map(([id, endpoint]) => {
      const shown = httpTarget.redact(httpConfigOf(endpoint)) as Record<string, unknown>;
      const { datamap: _d, json_body: _j, constant: _c, query_params: _q, kind: _k, ...rest } = shown;
      return [id, rest];
    }),
  );
  return { kind: 'rule-action', rule: config.rule, targets } as JsonObject;
}

async function verify(config: ActionDispatchSettings, deps: TargetDeps): Promise<void> {
  for (const [id, endpoint] of Object.entries(config.targets)) {
    try {
      await httpTarget.verify(httpConfigOf(endpoint), deps);
    } catch (err) {
      // the rule's author fixes this on the action target
      (err as { details?: Record<string, unknown> }).details ??= {};
      Object.assign((err as { details: Record<string, unknown> }).details, { actionTarget: id });
      throw err;
    }
  }
}

class ActionDispatchTarget implements DeliveryTarget {
  readonly kind = 'rule-action' as const;
  readonly maxBatchEvents = 1;
  private readonly targets: Map<string, DeliveryTarget>;

  constructor(config: ActionDispatchSettings, deps: TargetDeps) {
    this.targets = new Map(
      Object.entries(config.targets).map(([id, endpoint]) => [id, httpTarget.create(httpConfigOf(endpoint), deps)]),
    );
  }

  async deliver(items: readonly DeliveryItem[], context: DeliverContext): Promise<BatchOutcome> {
    const item = items[0]!;
    const message = item.payload as unknown as Partial<ActionMessage> | null;
    const target = typeof message?.target === 'string' ? this.targets.get(message.target) : undefined;
    if (target === undefined) {
      // the rule no longer sends to this target (it was changed after the action was rendered)
      return {
        items: [
          {
            outcome: 'permanent',
            error: `action target "${String(message?.target)}" is not one of the rule's targets any more`,
          },
        ],
        latencyMs: 0,
        bytes: 0,
      };
    }
    return target.deliver(items, context);
  }

  async close(): Promise<void> {
    await Promise.all([...this.targets.values()].map((t) => t.close()));
  }
}

export const actionDispatchTarget: TargetFactory<ActionDispatchSettings> = {
  kind: 'rule-action',
  check,
  redact,
  verify,
  create: (config, deps) => new ActionDispatchTarget(config, deps),
};
