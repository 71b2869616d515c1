// API keys: credentials for the remote admin API and CLI. Stored as prefix + bcrypt hash, shown
// once, looked up by prefix and compared in constant time, refused once expired.

import type { Store } from '../store/index.js';
import { isKeyExpired, type ApiKey } from '../domain/auth-keys.js';
import { SwitchboardError } from '../lib/errors.js';
import { hashSecret, issueSecret, parseSecret, secretMatches, PREFIX_LENGTH } from '../crypto/secrets.js';

export type ApiKeyRef = { id: number } | { prefix: string };

export class ApiKeyService {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async create(expiration: Date | null): Promise<{ key: ApiKey; full: string }> {
    const issued = issueSecret('api');
    const key = await this.#store.apiKeys.insert({
      prefix: issued.prefix,
      hash: await hashSecret(issued.secret),
      expiration,
    });
    return { key, full: issued.full };
  }

  list(): Promise<ApiKey[]> {
    return this.#store.apiKeys.list();
  }

  async expire(ref: ApiKeyRef, now = new Date()): Promise<void> {
    const key = await this.#require(ref);
    await this.#store.apiKeys.setExpiration(key.id, now);
  }

  async delete(ref: ApiKeyRef): Promise<void> {
    const key = await this.#require(ref);
    await this.#store.apiKeys.delete(key.id);
  }

  /** Returns the key when the presented text is a valid, unexpired API key; undefined otherwise. */
  async authenticate(presented: string, now = new Date()): Promise<ApiKey | undefined> {
    const parsed = parseSecret('api', presented);
    if (!parsed) return undefined;
    const key = await this.#store.apiKeys.find({ prefix: parsed.prefix });
    if (!key || !(await secretMatches(parsed.secret, key.hash))) return undefined;
    return isKeyExpired(key, now) ? undefined : key;
  }

  async #require(ref: ApiKeyRef): Promise<ApiKey> {
    const lookup: ApiKeyRef = 'prefix' in ref ? { prefix: normalizePrefix(ref.prefix) } : ref;
    const key = await this.#store.apiKeys.find(lookup);
    if (!key) {
      const what = 'prefix' in lookup ? `prefix ${lookup.prefix}` : `ID ${lookup.id}`;
      throw new SwitchboardError('ERR_APIKEY_NOT_FOUND', `API key with ${what} not found`);
    }
    return key;
  }
}

/** Accepts the bare prefix or a whole "hskey-api-<prefix>-..." key, as headscale's CLI does. */
function normalizePrefix(text: string): string {
  const t = text.trim();
  if (t.startsWith('hskey-api-')) return t.slice('hskey-api-'.length, 'hskey-api-'.length + PREFIX_LENGTH);
  return t;
}
