// Bearer API key checks for the remote admin surfaces (gRPC on grpc_listen_addr, REST /api/v1).
// A bcrypt comparison costs tens of milliseconds, so a successful check is remembered for a short
// while, keyed by a SHA-256 of the presented key (the key itself is never kept). The cache is
// dropped whenever an API key is expired or deleted, and an entry never outlives the key's own
// expiration, so a revoked key stops working at once.

import crypto from 'node:crypto';
import type { ApiKeyService } from '../../state/api-keys.js';

const BEARER = 'Bearer ';
const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 1024;

export type AuthOutcome = 'ok' | 'missing' | 'invalid';

export class ApiKeyAuthenticator {
  readonly #keys: Pick<ApiKeyService, 'authenticate'>;
  readonly #cache = new Map<string, { until: number }>();

  constructor(keys: Pick<ApiKeyService, 'authenticate'>) {
    this.#keys = keys;
  }

  /** Checks an Authorization header value ("Bearer <key>"). */
  async check(header: string | null | undefined): Promise<AuthOutcome> {
    if (header === null || header === undefined) return 'missing';
    if (!header.startsWith(BEARER)) return 'invalid';
    const presented = header.slice(BEARER.length).trim();
    if (!presented) return 'invalid';
    const id = crypto.createHash('sha256').update(presented).digest('base64url');
    const now = Date.now();
    const hit = this.#cache.get(id);
    if (hit && hit.until > now) return 'ok';
    if (hit) this.#cache.delete(id);
    let key;
    try {
      key = await this.#keys.authenticate(presented);
    } catch {
      return 'invalid';
    }
    if (!key) return 'invalid';
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
    const expires = key.expiration ? key.expiration.getTime() : Infinity;
    this.#cache.set(id, { until: Math.min(now + CACHE_TTL_MS, expires) });
    return 'ok';
  }

  /** Forgets every remembered success (an API key was expired or deleted). */
  invalidate(): void {
    this.#cache.clear();
  }
}
