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
import type { IpAllocator } from './ip-allocator.js';
import { ownerId } from './identity.js';

export class NodeService {
  readonly #store: Store;
  readonly #changes: ChangeBus;
  readonly #baseDomain: string;
  readonly #byId = new Map<number, Node>();
  readonly #byNodeKey = new Map<string, number>();
  /** given name → IDs of the nodes that have it (unique in practice) */
  readonly #byName = new Map<string, Set<number>>();
  /** Every node by ID, built on demand and kept in step by #set and #drop. */
  #sorted: Node[] | undefined;
  /** How many nodes each owner (user, or the tagged-devices user) has, in first-seen order. */
  readonly #owners = new Map<number, number>();
  readonly #online = new Set<number>();
  readonly #ephemeral = new Set<number>();
  readonly #dirty = new Set<number>();
  #flushTimer: NodeJS.Timeout | undefined;
  #users: UserService | undefined;

  readonly #ips: IpAllocator | undefined;

  constructor(store: Store, changes: ChangeBus, nodes: Node[], baseDomain: string, ephemeralIds: Iterable<number> = [], ips?: IpAllocator) {
    this.#store = store;
    this.#ips = ips;
    this.#changes = changes;
    this.#baseDomain = baseDomain;
    for (const n of nodes) this.#set(n);
    for (const id of ephemeralIds) this.#ephemeral.add(id);
  }

  #set(node: Node): void {
    const old = this.#byId.get(node.id);
    if (old && old.nodeKey !== node.nodeKey) this.#byNodeKey.delete(old.nodeKey);
    if (old) this.#unname(old);
    if (!old || ownerId(old) !== ownerId(node)) {
      if (old) this.#disown(old);
      this.#owners.set(ownerId(node), (this.#owners.get(ownerId(node)) ?? 0) + 1);
    }
    this.#byId.set(node.id, node);
    this.#byNodeKey.set(node.nodeKey, node.id);
    let named = this.#byName.get(node.givenName);
    if (!named) this.#byName.set(node.givenName, (named = new Set()));
    named.add(node.id);
    const sorted = this.#sorted;
    if (!sorted) return;
    if (old) sorted[this.#indexOf(old.id)] = node;
    else if (sorted.length === 0 || sorted[sorted.length - 1]!.id < node.id) sorted.push(node);
    else this.#sorted = undefined;
  }

  #unname(node: Node): void {
    const named = this.#byName.get(node.givenName);
    named?.delete(node.id);
    if (named?.size === 0) this.#byName.delete(node.givenName);
  }

  #disown(node: Node): void {
    const owner = ownerId(node);
    const left = (this.#owners.get(owner) ?? 1) - 1;
    if (left > 0) this.#owners.set(owner, left);
    else this.#owners.delete(owner);
  }

  /** Position of a listed node in #sorted (binary search by ID). */
  #indexOf(id: number): number {
    const sorted = this.#sorted!;
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #drop(id: number): void {
    const old = this.#byId.get(id);
    if (old) {
      this.#byNodeKey.delete(old.nodeKey);
      this.#unname(old);
      this.#disown(old);
      if (this.#sorted) this.#sorted.splice(this.#indexOf(id), 1);
    }
    this.#byId.delete(id);
    this.#online.delete(id);
    this.#ephemeral.delete(id);
    this.#dirty.delete(id);
  }

  findByNodeKey(nodeKey: string): Node | undefined {
    const id = this.#byNodeKey.get(nodeKey);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  isEphemeral(id: number): boolean {
    return this.#ephemeral.has(id);
  }

  /** Marks a node connected or not; publishes the change when it flips. */
  setOnline(id: number, online: boolean): void {
    if (!this.#byId.has(id) || this.#online.has(id) === online) return;
    if (online) this.#online.add(id);
    else this.#online.delete(id);
    this.#changes.publish({ type: 'node-online', nodeId: id, online });
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
    const all = this.sorted().slice();
    if (!userName) return all;
    const owners = new Set(this.#users?.list({ name: userName }).map((u) => u.id));
    return all.filter((n) => n.userId !== null && owners.has(n.userId));
  }

  /**
   * Every node sorted by ID, without the copy `list()` makes: for hot paths that only read it
   * before they return (a full map walks it once per viewer). Not to be kept or changed.
   */
  sorted(): readonly Node[] {
    return (this.#sorted ??= [...this.#byId.values()].sort((a, b) => a.id - b.id));
  }

  /** The owners (`ownerId`) of at least one node. */
  owners(): IterableIterator<number> {
    return this.#owners.keys();
  }

  countForUser(userId: number): number {
    let n = 0;
    for (const node of this.#byId.values()) if (node.userId === userId) n++;
    return n;
  }

  isOnline(id: number): boolean {
    return this.#online.has(id);
  }

  /** The node's given name made unique among the others (it keeps its own). */
  uniqueName(base: string, self = -1): string {
    return uniqueLabel(base, (name) => this.#nameTaken(name, self));
  }

  /** Adds a registered node; its given name is made unique first. */
  async add(node: NewNode, options: { ephemeral?: boolean } = {}): Promise<Node> {
    const stored = await this.#store.nodes.insert({ ...node, givenName: this.uniqueName(node.givenName) });
    this.adopt(stored, options);
    return stored;
  }

  /** Takes a node written by the caller's own transaction into memory and announces it. */
  adopt(node: Node, options: { ephemeral?: boolean } = {}): void {
    this.#set(node);
    if (options.ephemeral) this.#ephemeral.add(node.id);
    this.#changes.publish({ type: 'node-added', nodeId: node.id });
  }

  /**
   * Applies a change that the map stream reports often (endpoints, disco key, hostinfo, last
   * seen): memory and peers now, the database shortly after, many changes in one write.
   */
  touch(id: number, patch: Partial<Node>, change: 'node-changed' | 'node-patched' | 'none' = 'node-changed'): Node | undefined {
    const node = this.#byId.get(id);
    if (!node) return undefined;
    const next: Node = { ...node, ...patch, updatedAt: new Date() };
    this.#set(next);
    this.#dirty.add(id);
    this.#flushTimer ??= setTimeout(() => void this.flush(), 500).unref();
    if (change === 'node-changed') this.#changes.publish({ type: change, nodeId: id });
    if (change === 'node-patched') {
      const home = (next.hostinfo?.NetInfo as { PreferredDERP?: unknown } | undefined)?.PreferredDERP;
      this.#changes.publish({
        type: 'node-patched',
        nodeId: id,
        ...(patch.endpoints ? { endpoints: next.endpoints } : {}),
        ...(patch.discoKey ? { discoKey: next.discoKey } : {}),
        ...(typeof home === 'number' ? { homeDerp: home } : {}),
        ...(node.endpoints.length === 0 && next.endpoints.length > 0 ? { firstEndpoints: true as const } : {}),
      });
    }
    return next;
  }

  /** Writes touched nodes to the store. */
  async flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    for (const id of ids) {
      const node = this.#byId.get(id);
      if (node) await this.#store.nodes.update(node).catch(() => this.#dirty.add(id));
    }
  }

  /** Replaces mutable fields of a node now, written through before returning. */
  async update(id: number, patch: Partial<Node>): Promise<Node> {
    return this.#update(this.require(id), patch);
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
    const node = this.require(id);
    await this.#store.nodes.delete(id);
    this.#drop(id);
    this.#ips?.release(node);
    this.#changes.publish({ type: 'node-removed', nodeId: id });
  }

  #nameTaken(name: string, self: number): boolean {
    const named = this.#byName.get(name);
    return named !== undefined && (named.size > 1 || !named.has(self));
  }

  /** Writes a changed copy through to the store, then swaps it in; nothing changes on failure. */
  async #update(node: Node, patch: Partial<Node>): Promise<Node> {
    const next: Node = { ...node, ...patch, updatedAt: new Date() };
    if (!(await this.#store.nodes.update(next))) {
      this.#drop(node.id);
      throw new SwitchboardError('ERR_NODE_NOT_FOUND', `node with ID ${node.id} not found`);
    }
    this.#set(next);
    this.#dirty.delete(next.id);
    this.#changes.publish({ type: 'node-changed', nodeId: next.id });
    return next;
  }
}
