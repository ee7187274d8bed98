/**
 * Internal streams: the streams the server writes for itself. They belong to the server and to
 * the owner of what they serve, never to whoever holds a wildcard scope:
 *
 *   _sink.<id>.…                       a sink's attempt log (`_sink.<id>.attempts`)
 *   _rule.<id>.…                       a rule's actions and their dead letters
 *   <stream>.dlq, <stream>.retry-dlq   dead letters of consumers and sinks (a configured
 *                                      dead-letter stream must be named so too)
 *   okdata.<dataset>.failed.<version>  okdata's failed documents (its sinks' dead letters)
 *
 * No API writes into them (the server's own writers use `ProduceService.produceInternal`), no
 * user creates a name in these namespaces, and only admins and the owner of the stream (the
 * owner of the sink, rule or source stream it serves, recorded when the server created it) may
 * read them. The names alone decide, so a refusal needs no look-up and holds for streams that do
 * not exist yet.
 */
import { RivuletError } from '../../kernel/errors.js';

/** one expression for the hot path (every produce and every scope check asks) */
const INTERNAL = /^_(?:sink|rule)\.|\.(?:dlq|retry-dlq)$|^okdata\.[a-z0-9-]+\.failed\.[A-Za-z0-9_-]+$/;
const DEAD_LETTER = /\.(?:dlq|retry-dlq)$|^okdata\.[a-z0-9-]+\.failed\.[A-Za-z0-9_-]+$/;

/** true for a name the server keeps for itself: `_sink.*`, `_rule.*` and dead letters */
export function isInternalStream(name: string): boolean {
  return INTERNAL.test(name);
}

/** true for a dead-letter name: `<stream>.dlq`, `<stream>.retry-dlq`, okdata's failed streams */
export function isDeadLetterStream(name: string): boolean {
  return DEAD_LETTER.test(name);
}

/** 403 INTERNAL_STREAM: `what` says what was refused ("written", "created", …) */
export function internalStreamError(name: string, refused: string, pointer?: string): RivuletError {
  return new RivuletError(
    'INTERNAL_STREAM',
    `"${name.slice(0, 220)}" is an internal stream: the server writes it for itself (attempt logs, rule actions, dead letters), so it cannot be ${refused} through the API; only admins and the owner of what it serves may read it`,
    { details: { stream: name, ...(pointer === undefined ? {} : { pointer }) } },
  );
}

/** refuses a name in an internal namespace where a user names a stream to create */
export function assertUserStreamName(name: string, pointer = '/name'): void {
  if (isInternalStream(name)) throw internalStreamError(name, 'created', pointer);
}

/**
 * A configured dead-letter stream (of a sink or a consumer) must be a dead-letter name, so the
 * server's copies land in a stream no API can write into (an injected "dead letter" would be
 * delivered by a retry of dead letters with the sink's credentials).
 */
export function assertDeadLetterName(name: string, pointer = '/deadLetterStream'): void {
  if (!isDeadLetterStream(name)) {
    throw new RivuletError(
      'VALIDATION_FAILED',
      `deadLetterStream "${name.slice(0, 220)}" must end in ".dlq": dead letters go to internal streams, which no API writes into`,
      {
        details: { pointer },
      },
    );
  }
}
