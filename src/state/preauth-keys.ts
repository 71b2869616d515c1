// Pre-auth keys: issued by an admin for a user or for tags, shown once, stored as prefix + bcrypt
// hash; checked when a node registers with one. Single use is enforced by an atomic claim.

import type { Store, Repos } from '../store/index.js';
import { isKeyExpired, type PreAuthKey } from '../domain/auth-keys.js';
import { normalizeTags } from '../domain/tags.js';
import { SwitchboardError } from '../lib/errors.js';
import { hashSecret, issueSecret, parseSecret, safeEqual, secretMatches } from '../crypto/secrets.js';
import type { UserService } from './users.js';

export interface NewPreAuthKeyInput {
  userId: number | null;
  reusable: boolean;
  ephemeral: boolean;
  expiration: Date | null;
  tags: string[];
}

export class PreAuthKeyService {
  readonly #store: Store;
  readonly #users: UserService;

  constructor(store: Store, users: UserService) {
    this.#store = store;
    this.#users = users;
  }

  /** Creates a key; the returned `full` key is the only time the secret exists outside a hash. */
  async create(input: NewPreAuthKeyInput): Promise<{ key: PreAuthKey; full: string }> {
    if (input.userId !== null) this.#users.require(input.userId);
    const tags = normalizeTags(input.tags);
    if (input.userId === null && tags.length === 0) {
      throw new SwitchboardError('ERR_ARGUMENT', 'a pre-auth key needs a user or at least one tag');
    }
    const issued = issueSecret('auth');
    const key = await this.#store.preAuthKeys.insert({
      prefix: issued.prefix,
      hash: await hashSecret(issued.secret),
      userId: input.userId,
      reusable: input.reusable,
      ephemeral: input.ephemeral,
      expiration: input.expiration,
      tags,
    });
    return { key, full: issued.full };
  }

  list(): Promise<PreAuthKey[]> {
    return this.#store.preAuthKeys.list();
  }

  async get(id: number): Promise<PreAuthKey> {
    const key = await this.#store.preAuthKeys.get(id);
    if (!key) throw new SwitchboardError('ERR_AUTHKEY_NOT_FOUND', `pre-auth key with ID ${id} not found`);
    return key;
  }

  async expire(id: number, now = new Date()): Promise<void> {
    if (!(await this.#store.preAuthKeys.setExpiration(id, now))) {
      throw new SwitchboardError('ERR_AUTHKEY_NOT_FOUND', `pre-auth key with ID ${id} not found`);
    }
  }

  async delete(id: number): Promise<void> {
    if (!(await this.#store.preAuthKeys.delete(id))) {
      throw new SwitchboardError('ERR_AUTHKEY_NOT_FOUND', `pre-auth key with ID ${id} not found`);
    }
  }

  /**
   * Finds the key a registering node presented and checks that it may be used now. Messages never
   * repeat the presented text. With `repos` from a transaction, a single-use key is claimed in it.
   */
  async redeem(presented: string, repos: Repos = this.#store, now = new Date()): Promise<PreAuthKey> {
    const key = await this.#find(presented, repos);
    if (!key) throw new SwitchboardError('ERR_AUTHKEY_INVALID', 'invalid authkey');
    if (isKeyExpired(key, now)) throw new SwitchboardError('ERR_AUTHKEY_EXPIRED', 'authkey expired');
    if (!key.reusable) {
      if (key.used || !(await repos.preAuthKeys.claim(key.id))) {
        throw new SwitchboardError('ERR_AUTHKEY_USED', 'authkey already used');
      }
      key.used = true;
    }
    return key;
  }

  async #find(presented: string, repos: Repos): Promise<PreAuthKey | undefined> {
    const parsed = parseSecret('auth', presented);
    if (parsed) {
      const key = await repos.preAuthKeys.findByPrefix(parsed.prefix);
      return key && (await secretMatches(parsed.secret, key.hash)) ? key : undefined;
    }
    // Keys issued before hashing (taken over from an older headscale database) are plaintext.
    const legacy = presented.length > 0 && presented.length <= 256 ? await repos.preAuthKeys.findLegacy(presented) : undefined;
    return legacy && safeEqual(legacy.legacyKey, presented) ? legacy : undefined;
  }
}

/** How list output shows a key: the prefix, never the secret. */
export function maskedPreAuthKey(key: PreAuthKey): string {
  return key.prefix ? `hskey-auth-${key.prefix}-***` : key.legacyKey;
}
