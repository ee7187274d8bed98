/** What makes a consumer definition acceptable, and the defaults it gets. */
import { RivuletError } from '../../kernel/errors.js';
import { assertStreamName } from '../streams/stream-name.js';
import { assertDeadLetterName } from '../streams/internal-streams.js';
import type { ConsumerDefinition, StartPosition } from '../../store/port.js';

/**
 * Consumer names: like stream names (path segments in every API), so no `/`. Letters, digits,
 * `_`, `-`, `.`, `~` and `:`, 1–200 characters, starting with a letter, digit or `_`.
 */
const CONSUMER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.~:-]{0,199}$/;

export const CONSUMER_DEFAULTS = { leaseMs: 30_000, maxDeliveries: 5 } as const;
export const LEASE_BOUNDS = { minMs: 10, maxMs: 12 * 3600_000 } as const;
export const MAX_TYPES = 100;

export interface ConsumerInput {
  name: string;
  types?: string[];
  start?: StartPosition;
  leaseMs?: number;
  maxDeliveries?: number;
  deadLetterStream?: string | null;
}

export function assertConsumerName(name: string): void {
  if (!CONSUMER_NAME.test(name)) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `"${name.slice(0, 220)}" is not a valid consumer name: use 1–200 letters, digits, "_", "-", ".", "~" or ":", starting with a letter, digit or "_"`,
      {
        details: { pointer: '/name' },
      },
    );
  }
}

export function assertLeaseMs(leaseMs: number, pointer: string): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < LEASE_BOUNDS.minMs || leaseMs > LEASE_BOUNDS.maxMs) {
    throw new RivuletError('VALIDATION_FAILED', `a lease must be ${LEASE_BOUNDS.minMs}–${LEASE_BOUNDS.maxMs} ms`, {
      details: { pointer },
    });
  }
}

export function assertStart(start: StartPosition, pointer: string): void {
  if (start.from === 'seq' && (!Number.isSafeInteger(start.seq) || start.seq < 1)) {
    throw new RivuletError('VALIDATION_FAILED', 'a start seq must be a positive integer', {
      details: { pointer: `${pointer}/seq` },
    });
  }
  if (start.from === 'time' && !Number.isFinite(start.timeMs)) {
    throw new RivuletError('VALIDATION_FAILED', 'a start time must be a valid timestamp', {
      details: { pointer: `${pointer}/time` },
    });
  }
}

export function consumerDefinition(stream: string, input: ConsumerInput): ConsumerDefinition {
  assertConsumerName(input.name);
  const types = [...new Set(input.types ?? [])];
  if (types.length > MAX_TYPES || types.some((t) => typeof t !== 'string' || t.length === 0 || t.length > 256)) {
    throw new RivuletError('VALIDATION_FAILED', `types must be at most ${MAX_TYPES} non-empty event types`, {
      details: { pointer: '/types' },
    });
  }
  const leaseMs = input.leaseMs ?? CONSUMER_DEFAULTS.leaseMs;
  assertLeaseMs(leaseMs, '/leaseMs');
  const maxDeliveries = input.maxDeliveries ?? CONSUMER_DEFAULTS.maxDeliveries;
  if (!Number.isSafeInteger(maxDeliveries) || maxDeliveries < 1 || maxDeliveries > 1000) {
    throw new RivuletError('VALIDATION_FAILED', 'maxDeliveries must be 1–1000', {
      details: { pointer: '/maxDeliveries' },
    });
  }
  const deadLetterStream = input.deadLetterStream ?? null;
  if (deadLetterStream !== null) {
    assertStreamName(deadLetterStream);
    assertDeadLetterName(deadLetterStream);
    if (deadLetterStream === stream) {
      throw new RivuletError('VALIDATION_FAILED', 'a consumer cannot dead-letter into the stream it reads', {
        details: { pointer: '/deadLetterStream' },
      });
    }
  }
  return { name: input.name, stream, types, leaseMs, maxDeliveries, deadLetterStream };
}

export function deadLetterStreamOf(def: ConsumerDefinition): string {
  return def.deadLetterStream ?? `${def.stream}.dlq`;
}
