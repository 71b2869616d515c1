// User administration: create, rename, delete and list, over an in-memory copy of the users
// table that the rest of the server reads without touching the database.

import { isUniqueViolation, type Store } from '../store/index.js';
import { checkUsername, type User } from '../domain/user.js';
import { SwitchboardError } from '../lib/errors.js';
import type { ChangeBus } from './change-bus.js';

export interface UserFilter {
  id?: number;
  name?: string;
  email?: string;
}

export interface NewUserInput {
  name: string;
  displayName?: string;
  email?: string;
  pictureUrl?: string;
}

export class UserService {
  readonly #store: Store;
  readonly #changes: ChangeBus;
  readonly #byId = new Map<number, User>();
  /** Counts the nodes each user owns; kept by the node service so deletes need no query. */
  readonly nodeCount: (userId: number) => number;

  constructor(store: Store, changes: ChangeBus, users: User[], nodeCount: (userId: number) => number) {
    this.#store = store;
    this.#changes = changes;
    this.nodeCount = nodeCount;
    for (const u of users) this.#byId.set(u.id, u);
  }

  get(id: number): User | undefined {
    return this.#byId.get(id);
  }

  /** Resolves a user named on the command line or in the API: by name, else by numeric ID. */
  resolve(nameOrId: string): User {
    const byName = [...this.#byId.values()].filter((u) => u.name === nameOrId);
    if (byName.length === 1) return byName[0] as User;
    if (byName.length > 1) {
      throw new SwitchboardError('ERR_ARGUMENT', `more than one user is named "${nameOrId}"; use the user ID`);
    }
    if (/^\d+$/.test(nameOrId)) {
      const u = this.#byId.get(Number(nameOrId));
      if (u) return u;
    }
    throw new SwitchboardError('ERR_USER_NOT_FOUND', `user "${nameOrId}" not found`);
  }

  require(id: number): User {
    const u = this.#byId.get(id);
    if (!u) throw new SwitchboardError('ERR_USER_NOT_FOUND', `user with ID ${id} not found`);
    return u;
  }

  /** Lists users sorted by ID; a filter applies name first, then email, then ID (as headscale). */
  list(filter: UserFilter = {}): User[] {
    const all = [...this.#byId.values()].sort((a, b) => a.id - b.id);
    if (filter.name) return all.filter((u) => u.name === filter.name);
    if (filter.email) return all.filter((u) => u.email === filter.email);
    if (filter.id) return all.filter((u) => u.id === filter.id);
    return all;
  }

  async create(input: NewUserInput): Promise<User> {
    checkUsername(input.name);
    if (input.pictureUrl) checkUrl(input.pictureUrl);
    this.#refuseTaken(input.name);
    const user = await this.#store.users
      .insert({
        name: input.name,
        displayName: input.displayName ?? '',
        email: input.email ?? '',
        providerIdentifier: null,
        provider: '',
        profilePicUrl: input.pictureUrl ?? '',
      })
      .catch((err: unknown) => rethrowTaken(err, input.name));
    this.#byId.set(user.id, user);
    this.#changes.publish({ type: 'user-changed', userId: user.id });
    return user;
  }

  async rename(id: number, newName: string): Promise<User> {
    const user = this.require(id);
    checkUsername(newName);
    if (user.providerIdentifier) {
      throw new SwitchboardError('ERR_ARGUMENT', `user ${id} comes from an identity provider and cannot be renamed`);
    }
    if (newName !== user.name) this.#refuseTaken(newName);
    const renamed = await this.#store.users.rename(id, newName).catch((err: unknown) => rethrowTaken(err, newName));
    if (!renamed) throw new SwitchboardError('ERR_USER_NOT_FOUND', `user with ID ${id} not found`);
    this.#byId.set(id, renamed);
    this.#changes.publish({ type: 'user-changed', userId: id });
    return renamed;
  }

  /** Deletes a user that owns no nodes, together with its pre-auth keys. */
  async delete(id: number): Promise<void> {
    const user = this.require(id);
    const nodes = this.nodeCount(id);
    if (nodes > 0) {
      throw new SwitchboardError(
        'ERR_USER_HAS_NODES',
        `user "${user.name}" still owns ${nodes} node(s); delete or re-tag them first`,
      );
    }
    await this.#store.transaction(async (repos) => {
      for (const key of await repos.preAuthKeys.list()) {
        if (key.userId === id) await repos.preAuthKeys.delete(key.id);
      }
      await repos.users.delete(id);
    });
    this.#byId.delete(id);
    this.#changes.publish({ type: 'user-removed', userId: id });
  }

  #refuseTaken(name: string): void {
    for (const u of this.#byId.values()) {
      if (u.name === name && u.providerIdentifier === null) {
        throw new SwitchboardError('ERR_USER_EXISTS', `user "${name}" already exists`);
      }
    }
  }
}

function rethrowTaken(err: unknown, name: string): never {
  if (isUniqueViolation(err)) throw new SwitchboardError('ERR_USER_EXISTS', `user "${name}" already exists`, { cause: err });
  throw err;
}

function checkUrl(text: string): void {
  try {
    const u = new URL(text);
    if (u.protocol === 'http:' || u.protocol === 'https:') return;
  } catch {
    // fall through
  }
  throw new SwitchboardError('ERR_ARGUMENT', `invalid picture URL "${text}": must be an http or https URL`);
}
