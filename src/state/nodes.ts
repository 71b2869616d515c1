// The nodes of the tailnet, held in memory (the hot path never reads the database) and written
// through to the store. Admin operations (rename, expire, tag, delete) and the registration code
// go through here; each change is published on the change bus.

import type { Store, NewNode } from '../store/index.js';
import type { Node } from '../domain/node.js';
import { checkGivenName, uniqueLabel } from '../domain/names.js';
import { normalizeTags } from '../domain/tags.js';
import { SwitchboardError } from '../lib/errors.js';
import type { ChangeBus } from './change-bus.js';
import type { UserService } from './users.js';

export class NodeService {
  readonly #store: Store;
  readonly #changes: ChangeBus;
  readonly #baseDomain: string;
  readonly #byId = new Map<number, Node>();
  readonly #online = new Set<number>();
  #users: UserService | undefined;

  constructor(store: Store, changes: ChangeBus, nodes: Node[], baseDomain: string) {
    this.#store = store;
    this.#changes = changes;
    this.#baseDomain = baseDomain;
    for (const n of nodes) this.#byId.set(n.id, n);
  }

  /** Set once at start-up; users and nodes refer to each other. */
  attachUsers(users: UserService): void {
    this.#users = users;
  }

  get(id: number): Node | undefined {
    return this.#byId.get(id);
  }

  require(id: number): Node {
    const node = this.#byId.get(id);
    if (!node) throw new SwitchboardError('ERR_NODE_NOT_FOUND', `node with ID ${id} not found`);
    return node;
  }

  /** All nodes sorted by ID, optionally only those of the user with this name. */
  list(userName?: string): Node[] {
    const all = [...this.#byId.values()].sort((a, b) => a.id - b.id);
    if (!userName) return all;
    const owners = new Set(this.#users?.list({ name: userName }).map((u) => u.id));
    return all.filter((n) => n.userId !== null && owners.has(n.userId));
  }

  countForUser(userId: number): number {
    let n = 0;
    for (const node of this.#byId.values()) if (node.userId === userId) n++;
    return n;
  }

  isOnline(id: number): boolean {
    return this.#online.has(id);
  }

  /** Adds a registered node; its given name is made unique first. */
  async add(node: NewNode): Promise<Node> {
    const givenName = uniqueLabel(node.givenName, (name) => this.#nameTaken(name, -1));
    const stored = await this.#store.nodes.insert({ ...node, givenName });
    this.#byId.set(stored.id, stored);
    this.#changes.publish({ type: 'node-added', nodeId: stored.id });
    return stored;
  }

  async rename(id: number, newName: string): Promise<Node> {
    const node = this.require(id);
    checkGivenName(newName, this.#baseDomain);
    if (this.#nameTaken(newName, id)) {
      throw new SwitchboardError('ERR_NODE_INVALID_NAME', `node name "${newName}" is already in use by another node`);
    }
    return this.#update(node, { givenName: newName });
  }

  /** Sets the key expiry: a time (past or future), now when undefined, or never with null. */
  async expire(id: number, at: Date | null | undefined): Promise<Node> {
    const node = this.require(id);
    return this.#update(node, { expiry: at === undefined ? new Date() : at });
  }

  /** Replaces a node's tags; a user-owned node becomes tagged and belongs to no user. */
  async setTags(id: number, tags: string[]): Promise<Node> {
    const node = this.require(id);
    const normalized = normalizeTags(tags);
    if (normalized.length === 0) {
      throw new SwitchboardError('ERR_NODE_INVALID_TAGS', 'cannot remove all tags from a node; give at least one tag');
    }
    return this.#update(node, { tags: normalized, userId: null });
  }

  async delete(id: number): Promise<void> {
    this.require(id);
    await this.#store.nodes.delete(id);
    this.#byId.delete(id);
    this.#online.delete(id);
    this.#changes.publish({ type: 'node-removed', nodeId: id });
  }

  #nameTaken(name: string, self: number): boolean {
    for (const n of this.#byId.values()) if (n.id !== self && n.givenName === name) return true;
    return false;
  }

  /** Writes a changed copy through to the store, then swaps it in; nothing changes on failure. */
  async #update(node: Node, patch: Partial<Node>): Promise<Node> {
    const next: Node = { ...node, ...patch, updatedAt: new Date() };
    if (!(await this.#store.nodes.update(next))) {
      this.#byId.delete(node.id);
      throw new SwitchboardError('ERR_NODE_NOT_FOUND', `node with ID ${node.id} not found`);
    }
    this.#byId.set(next.id, next);
    this.#changes.publish({ type: 'node-changed', nodeId: next.id });
    return next;
  }
}
