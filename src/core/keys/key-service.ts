/**
 * API keys. A key is shown once, when it is made; the store keeps only its SHA-256, under
 * which it is also looked up. Keys are 256-bit random values, so a fast hash is enough:
 * slow password hashes defend low-entropy secrets, and would only slow every request here.
 */
import { hash, randomBytes } from 'node:crypto';
import { RivuletError } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import type { DocumentStore } from '../../store/port.js';
import { isInternalStream } from '../streams/internal-streams.js';
import { assertScope, grantsAllow, grantsMatch, grantsSee, parseGrants, type Action, type Grant } from './scopes.js';
import type { KeyRecord } from './key-record.js';

const COLLECTION = 'keys';
/**
 * in-process cache lifetime. Where the store reports document changes (`documentWatch`), another
 * process's revoke drops the entry at once; otherwise this bounds how long a revoked key keeps
 * working on the other processes.
 */
const CACHE_MS = 5_000;

interface StoredKey extends KeyRecord {
  [key: string]: unknown;
}

export class Principal {
  readonly admin: boolean;
  private readonly grants: Grant[];

  constructor(readonly key: KeyRecord) {
    const parsed = parseGrants(key.scopes);
    this.admin = parsed.admin;
    this.grants = parsed.grants;
  }

  get owner(): string {
    return this.key.owner;
  }

  /**
   * whether the key may do `action` on the stream by its scopes alone. Internal streams: never
   * produce (no API writes them), and otherwise admins only; their owner's access is decided
   * with the stream's record at hand (`canAsOwner`).
   */
  can(action: Action | 'admin', stream?: string): boolean {
    if (this.admin) return !(action === 'produce' && stream !== undefined && isInternalStream(stream));
    if (action === 'admin' || stream === undefined) return false;
    return grantsAllow(this.grants, action, stream);
  }

  /** an internal stream owned by `owner`: its owner reads and manages it within the key's patterns */
  canAsOwner(action: Action, stream: string, owner: string): boolean {
    if (action === 'produce') return false;
    return this.admin || (owner === this.owner && grantsMatch(this.grants, action, stream));
  }

  /** for listings: `owner` (the stream's) shows an internal stream to its owner, within the key's patterns */
  sees(stream: string, owner?: string): boolean {
    if (this.admin || grantsSee(this.grants, stream)) return true;
    return (
      owner !== undefined &&
      owner === this.owner &&
      isInternalStream(stream) &&
      grantsMatch(this.grants, 'consume', stream)
    );
  }
}

export function hashSecret(secret: string): string {
  // the one-shot form: no Hash object per request
  return hash('sha256', secret, 'hex');
}

/** how many presented secrets' hashes are remembered; more distinct ones start the memory afresh */
const RECENT_SECRETS = 256;

export class KeyService {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  /** counts drops, so a look-up that raced one does not cache what it read before it */
  private drops = 0;
  /**
   * the hashes of secrets presented lately, in memory only: a client sends the same key with
   * every request, and hashing it each time was a noticeable part of a produce request's cost
   */
  private readonly hashes = new Map<string, string>();

  constructor(
    private readonly docs: DocumentStore,
    private readonly clock: Clock,
  ) {
    // the service lives as long as its store, whose close ends the watch
    docs.watch?.(COLLECTION, (hash) => this.drop(hash));
  }

  /** forgets a cached key (by the hash it is stored under), or every key (null) */
  private drop(hash: string | null): void {
    this.drops++;
    if (hash === null) this.cache.clear();
    else this.cache.delete(hash);
  }

  /**
   * answers the key's principal, or null when the secret is not a live key: at once when the
   * answer is cached (this runs on every request), else once the store has been asked
   */
  authenticate(secret: string): Principal | null | Promise<Principal | null> {
    let hash = this.hashes.get(secret);
    if (hash === undefined) {
      hash = hashSecret(secret);
      if (this.hashes.size >= RECENT_SECRETS) this.hashes.clear();
      this.hashes.set(secret, hash);
    }
    const nowMs = this.clock.now().getTime();
    const cached = this.cache.get(hash);
    if (cached && cached.until > nowMs) return this.live(cached.principal, nowMs);
    return this.lookUp(hash, nowMs);
  }

  private async lookUp(hash: string, nowMs: number): Promise<Principal | null> {
    const drops = this.drops;
    const doc = await this.docs.get<StoredKey>(COLLECTION, hash);
    const principal = doc ? new Principal(toRecord(doc.value)) : null;
    if (drops === this.drops) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { principal, until: nowMs + CACHE_MS });
    }
    return this.live(principal, nowMs);
  }

  private live(principal: Principal | null, nowMs: number): Principal | null {
    if (principal?.key.expiresAt && Date.parse(principal.key.expiresAt) <= nowMs) return null;
    return principal;
  }

  async create(input: {
    name?: string;
    owner: string;
    scopes: string[];
    expiresAt?: string | null;
  }): Promise<{ key: KeyRecord; secret: string }> {
    input.scopes.forEach((s, i) => assertScope(s, `/scopes/${i}`));
    if (input.scopes.length === 0)
      throw new RivuletError('VALIDATION_FAILED', 'a key needs at least one scope', {
        details: { pointer: '/scopes' },
      });
    if (input.expiresAt && Number.isNaN(Date.parse(input.expiresAt))) {
      throw new RivuletError('VALIDATION_FAILED', 'expiresAt must be an RFC 3339 timestamp', {
        details: { pointer: '/expiresAt' },
      });
    }
    // a key born expired would answer 201 and then fail every request as "not valid"
    if (input.expiresAt && Date.parse(input.expiresAt) <= this.clock.now().getTime()) {
      throw new RivuletError(
        'VALIDATION_FAILED',
        `expiresAt (${input.expiresAt.slice(0, 40)}) lies in the past: a key must expire in the future`,
        { details: { pointer: '/expiresAt' } },
      );
    }
    const id = randomBytes(8).toString('hex');
    const secret = `rvl_${randomBytes(32).toString('base64url')}`;
    return {
      key: await this.store(secret, {
        id,
        name: input.name ?? '',
        owner: input.owner,
        scopes: input.scopes,
        expiresAt: input.expiresAt ?? null,
      }),
      secret,
    };
  }

  /** registers a secret chosen by the operator (RIVULET_ADMIN_KEY), replacing an earlier one of the same id */
  async register(secret: string, key: Omit<KeyRecord, 'createdAt'>): Promise<KeyRecord> {
    for (const doc of await this.docs.list<StoredKey>(COLLECTION)) {
      if (doc.value.id === key.id && doc.key !== hashSecret(secret)) {
        await this.docs.delete(COLLECTION, doc.key);
        // the replaced secret stops working here at once, as a revoked one does
        this.drop(doc.key);
      }
    }
    return this.store(secret, key);
  }

  private async store(secret: string, key: Omit<KeyRecord, 'createdAt'>): Promise<KeyRecord> {
    const record: KeyRecord = { ...key, createdAt: this.clock.now().toISOString() };
    await this.docs.put(COLLECTION, hashSecret(secret), record as StoredKey);
    this.drop(hashSecret(secret));
    return record;
  }

  async list(): Promise<KeyRecord[]> {
    return (await this.docs.list<StoredKey>(COLLECTION))
      .map((d) => toRecord(d.value))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async count(): Promise<number> {
    return (await this.docs.list(COLLECTION, { limit: 1 })).length;
  }

  async get(id: string): Promise<KeyRecord> {
    const found = (await this.docs.list<StoredKey>(COLLECTION)).find((d) => d.value.id === id);
    if (!found) throw new RivuletError('KEY_NOT_FOUND', `no key has id "${id}"`);
    return toRecord(found.value);
  }

  async revoke(id: string): Promise<void> {
    const found = (await this.docs.list<StoredKey>(COLLECTION)).find((d) => d.value.id === id);
    if (!found) throw new RivuletError('KEY_NOT_FOUND', `no key has id "${id}"`);
    await this.docs.delete(COLLECTION, found.key);
    this.drop(found.key);
  }
}

function toRecord(v: StoredKey): KeyRecord {
  return {
    id: v.id,
    name: v.name,
    owner: v.owner,
    scopes: v.scopes,
    createdAt: v.createdAt,
    expiresAt: v.expiresAt ?? null,
  };
}
