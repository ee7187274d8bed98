/**
 * Short-lived tokens that let a browser open a live subscription of one stream, where it
 * cannot send an Authorization header (EventSource, WebSocket). A token is 256 random bits;
 * the store keeps only its SHA-256 with the stream and expiry, so every process sharing the
 * store accepts it. It grants `consume` on its one stream and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { RivuletError } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import { Principal, hashSecret } from '../keys/key-service.js';
import type { DocumentStore } from '../../store/port.js';

const COLLECTION = 'live-tokens';
/** expired tokens are swept at most this often, when a new one is issued */
const SWEEP_MS = 60_000;

interface StoredToken {
  stream: string;
  owner: string;
  keyId: string;
  expiresAt: string;
  [key: string]: unknown;
}

export interface IssuedLiveToken {
  token: string;
  stream: string;
  expiresAt: string;
}

export class LiveTokenService {
  private lastSweep = 0;

  constructor(
    private readonly docs: DocumentStore,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  async issue(principal: Principal, stream: string): Promise<IssuedLiveToken> {
    const nowMs = this.clock.now().getTime();
    await this.sweep(nowMs);
    const token = `rvlt_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(nowMs + this.ttlMs).toISOString();
    await this.docs.put<StoredToken>(COLLECTION, hashSecret(token), {
      stream,
      owner: principal.owner,
      keyId: principal.key.id,
      expiresAt,
    });
    return { token, stream, expiresAt };
  }

  /** the token's principal when it is live and was issued for `stream`; fails with UNAUTHENTICATED otherwise */
  async verify(token: string, stream: string): Promise<Principal> {
    const doc = await this.docs.get<StoredToken>(COLLECTION, hashSecret(token));
    const nowMs = this.clock.now().getTime();
    if (doc && Date.parse(doc.value.expiresAt) <= nowMs) await this.docs.delete(COLLECTION, doc.key);
    if (!doc || Date.parse(doc.value.expiresAt) <= nowMs || doc.value.stream !== stream) {
      throw new RivuletError(
        'UNAUTHENTICATED',
        'the live token is not valid for this stream: it expired, or was issued for another stream',
      );
    }
    return new Principal({
      id: `live-token:${doc.value.keyId}`,
      name: 'live token',
      owner: doc.value.owner,
      scopes: [`consume:${stream}`],
      createdAt: doc.updatedAt,
      expiresAt: doc.value.expiresAt,
    });
  }

  private async sweep(nowMs: number): Promise<void> {
    if (nowMs - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = nowMs;
    for (const doc of await this.docs.list<StoredToken>(COLLECTION)) {
      if (Date.parse(doc.value.expiresAt) <= nowMs) await this.docs.delete(COLLECTION, doc.key);
    }
  }
}
