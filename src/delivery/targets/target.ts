/**
 * The contract between the delivery engine and a target (docs/delivery.md).
 *
 * Glossary:
 * - target: where a sink delivers (`http`, `s3`, `opensearch`, `stream`).
 * - batch: the events one `deliver` call carries. The engine forms batches from the sink's
 *   batch settings (size, bytes, age — Firehose-style buffering hints) capped by the target's
 *   own `maxBatchEvents`; a target that takes one event per request says 1.
 * - outcome: per event, `success`, `retry` (the same delivery may succeed later: network
 *   errors, 408, 429, 5xx) or `permanent` (it never will: other 4xx, a rejected document).
 *
 * A target never retries, sleeps or dead-letters by itself: it makes one attempt and reports
 * what happened to each event. Retries, backoff, rate limits, dead letters, the attempt log
 * and stats belong to the engine, so every target behaves alike.
 */
import type { JsonObject, JsonValue, StoredEvent } from '../../kernel/envelope.js';
import type { ProduceService } from '../../core/events/produce.js';
import type { OmittedSecrets } from '../../core/sinks/sink-model.js';
import type { UrlGuard } from '../url-guard.js';

/** `rule` and `rule-action` are the two halves of a rule (docs/rules.md); rules create them */
export type TargetKind = 'http' | 's3' | 'opensearch' | 'stream' | 'rule' | 'rule-action';

/** One event as the engine hands it to a target. */
export interface DeliveryItem {
  event: StoredEvent;
  /** the sink's transform applied to the event (the event's `data` when the sink has none) */
  payload: JsonValue;
  /**
   * stable across retries and redeliveries of this event through this sink, so receivers
   * can de-duplicate (`webhook-id` for http, `_id` for opensearch)
   */
  deliveryId: string;
  /** 1-based attempt number of this delivery */
  attempt: number;
}

export type ItemOutcome =
  | { outcome: 'success' }
  | {
      outcome: 'retry' | 'permanent';
      /** one line for people: `HTTP 503 Service Unavailable`, `ECONNRESET`, `mapper_parsing_exception: …` */
      error: string;
      /** the receiver's status for this item, when it gave one */
      status?: number;
      /** the receiver asked to wait this long before trying again (Retry-After) */
      retryAfterMs?: number;
    };

/** What one `deliver` call did. */
export interface BatchOutcome {
  /** one per item, in the order of the batch */
  items: ItemOutcome[];
  /** the response status of the request(s), when there was one */
  status?: number;
  /** wall time of the attempt */
  latencyMs: number;
  /** bytes sent */
  bytes: number;
  /** target-specific facts for the attempt log, e.g. `{ key: "orders/2026/11/23/09/1-100.ndjson" }` */
  detail?: JsonObject;
}

export interface DeliverContext {
  /** aborted when the attempt times out or the sink stops; a target must give up promptly */
  signal: AbortSignal;
  /** the sink's id, for names and logs */
  sinkId: string;
}

export interface DeliveryTarget {
  readonly kind: TargetKind;
  /** the most items one `deliver` call accepts (1 for a request per event) */
  readonly maxBatchEvents: number;
  /**
   * Makes one attempt for the whole batch and reports each item's outcome. Rejects only on
   * a bug; failures of the receiver are outcomes, not exceptions.
   */
  deliver(items: readonly DeliveryItem[], context: DeliverContext): Promise<BatchOutcome>;
  /** idempotent: releases sockets and clients */
  close(): Promise<void>;
}

/**
 * Builds a target from a sink's `target` configuration. `check` validates the configuration
 * without building anything (BAD_REQUEST / VALIDATION_FAILED naming the field with a JSON
 * pointer under `/target`) and answers it normalised; `create` builds the target from a
 * configuration `check` accepted. Secrets in the configuration are never logged or answered
 * by the API: `redact` gives the configuration as it may be shown.
 */
export interface TargetFactory<C extends JsonObject = JsonObject> {
  readonly kind: TargetKind;
  check(config: unknown): C;
  redact(config: C): JsonObject;
  create(config: C, deps: TargetDeps): DeliveryTarget;
  /**
   * Optional checks that need the running server (the URL guard, DNS) when a sink is saved,
   * e.g. TARGET_URL_FORBIDDEN for a fixed URL on a refused address. Runs after `check`.
   */
  verify?(config: C, deps: TargetDeps): Promise<void>;
  /** streams the target writes into (the `stream` target's), for access checks and loops */
  writesTo?(config: C): string[];
  /**
   * For a target with secrets: the configuration as given (unchecked) with its secret fields
   * resolved against `stored` (this kind's, or null) as target-secrets.ts describes; runs
   * before `check`. Without it a configuration is checked as given.
   */
  resolveSecrets?(given: unknown, stored: C | null, omitted: OmittedSecrets): unknown;
  /**
   * For a dry run: what one `deliver` would send for `event` (its `data` already the sink's
   * payload), built by the same code as the delivery, secrets redacted; nothing is sent.
   */
  preview?(config: C, event: StoredEvent): JsonObject;
}

/** What targets may use from the running server. Kept small so targets stay testable alone. */
export interface TargetDeps {
  /** refuses loopback, link-local and private addresses unless the operator allowed them */
  urlGuard: UrlGuard;
  /** the `stream` target's way in: the same produce path as the API, ingest checks included */
  produce?: ProduceService;
}
