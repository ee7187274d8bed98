/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/, symmetric `v1`).
 *
 * Each delivery carries `webhook-id` (the event id: the same on every retry, so receivers can
 * de-duplicate), `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`:
 * `v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, one entry per configured
 * secret, separated by spaces. Signing with every secret is how secrets are rotated: add
 * the new secret, let receivers switch, then remove the old one.
 *
 * Secrets are `whsec_` + base64 of 24 to 64 random bytes. `verifyWebhook` is what a receiver
 * runs (see docs/delivery-mapping.md); it is exported for tests and for Rivulet's own
 * receivers.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RivuletError } from '../kernel/errors.js';

const SECRET_PREFIX = 'whsec_';
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export interface SignWebhookInput {
  /** the message id; Rivulet uses the event id */
  id: string;
  /** unix seconds, or a Date */
  timestamp: number | Date;
  /** exactly the bytes that are sent */
  body: string | Uint8Array;
  /** `whsec_…` secrets; every one of them signs */
  secrets: readonly string[];
}

/** A fresh secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * The key bytes of a secret. The `whsec_` prefix is optional, as in the reference libraries;
 * anything that is not strict base64 of 24–64 bytes is refused (BAD_REQUEST), so a mistyped
 * secret fails when it is configured rather than producing signatures nobody can check.
 */
export function parseWebhookSecret(secret: string): Buffer {
  const encoded =
    typeof secret === 'string' && secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (typeof encoded !== 'string' || encoded.length === 0 || !BASE64.test(encoded)) {
    throw new RivuletError('BAD_REQUEST', 'a webhook secret must be "whsec_" followed by base64');
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new RivuletError(
      'BAD_REQUEST',
      `a webhook secret must decode to ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes, not ${key.length}`,
    );
  }
  return key;
}

/** The three Standard Webhooks headers for one delivery attempt. */
export function signWebhook(input: SignWebhookInput): WebhookHeaders & Record<string, string> {
  const seconds = unixSeconds(input.timestamp);
  if (input.secrets.length === 0) throw new RivuletError('BAD_REQUEST', 'signing needs at least one webhook secret');
  const signatures = input.secrets.map(
    (secret) => `v1,${hmac(parseWebhookSecret(secret), input.id, seconds, input.body).toString('base64')}`,
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signatures.join(' '),
  };
}

export interface VerifyWebhookInput {
  /** request headers: a plain object (any case, as Node gives them) or a fetch `Headers` */
  headers: Record<string, string | string[] | undefined> | { get(name: string): string | null };
  /** the raw body, exactly as received: verify before parsing */
  body: string | Uint8Array;
  /** the receiver's secrets (old and new while rotating) */
  secrets: readonly string[];
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * Throws UNAUTHENTICATED unless some `v1` signature in `webhook-signature` was made with one
 * of `secrets` over this id, timestamp and body, and the timestamp is within `toleranceSeconds`
 * of `now` (which limits replays). Comparisons take constant time.
 */
export function verifyWebhook(input: VerifyWebhookInput): void {
  const id = header(input.headers, 'webhook-id');
  const timestamp = header(input.headers, 'webhook-timestamp');
  const signature = header(input.headers, 'webhook-signature');
  if (id === undefined || timestamp === undefined || signature === undefined) {
    throw unauthenticated('missing webhook-id, webhook-timestamp or webhook-signature');
  }
  const seconds = checkTimestamp(
    timestamp,
    input.now ?? new Date(),
    input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
  );
  const offered = offeredSignatures(signature);
  const matched = input.secrets.some((secret) => {
    const expected = hmac(parseWebhookSecret(secret), id, seconds, input.body);
    return offered.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected));
  });
  if (!matched) throw unauthenticated('no matching webhook signature');
}

function hmac(key: Buffer, id: string, seconds: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${seconds}.`, 'utf8').update(body).digest();
}

function unixSeconds(timestamp: number | Date): number {
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0)
    throw new RivuletError('BAD_REQUEST', 'webhook timestamp must be whole unix seconds');
  return seconds;
}

function unauthenticated(reason: string): RivuletError {
  return new RivuletError('UNAUTHENTICATED', `Webhook verification failed: ${reason}`);
}

function header(headers: VerifyWebhookInput['headers'], name: string): string | undefined {
  if (typeof headers.get === 'function')
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const plain = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(plain).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : plain[key];
  return Array.isArray(value) ? value.join(' ') : value;
}

function checkTimestamp(value: string, now: Date, toleranceSeconds: number): number {
  if (!/^\d{1,15}$/.test(value)) throw unauthenticated('webhook-timestamp is not unix seconds');
  const seconds = Number(value);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (nowSeconds - seconds > toleranceSeconds) throw unauthenticated('message timestamp too old');
  if (seconds - nowSeconds > toleranceSeconds) throw unauthenticated('message timestamp too new');
  return seconds;
}

/**
 * The decoded `v1` signatures; other versions (e.g. asymmetric `v1a`) are skipped. Only
 * canonical base64 counts: Node's decoder ignores the unused low bits of the last character,
 * so `…1OE=` and `…1OF=` would otherwise pass as the same signature.
 */
function offeredSignatures(value: string): Buffer[] {
  const decoded: Buffer[] = [];
  for (const entry of value.split(' ')) {
    if (!entry.startsWith('v1,')) continue;
    const bytes = Buffer.from(entry.slice(3), 'base64');
    if (bytes.length > 0 && bytes.toString('base64') === entry.slice(3)) decoded.push(bytes);
  }
  return decoded;
}
