/**
 * How secrets look in answers, and which names hold them. One rule for every place that shows
 * a configuration (sinks, action targets, aether jobs, spec revisions) and every place that
 * takes one back (PATCH, specs uploaded again): a name shown redacted is one an update treats
 * as a secret, so the placeholder sent back is never stored as the secret itself.
 */

/** what answers show in place of a secret */
export const REDACTED = '[redacted]';

/** field and header names that hold credentials (`token`, `pw`, `secretAccessKey`, `Authorization`, `x-api-key`, …) */
const SECRET_NAME = /auth|key|token|secret|password|^pw$|cookie|signature|credential/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** headers with every secret one's value replaced by REDACTED */
export function redactedHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, isSecretName(k) ? REDACTED : v]));
}
