// The authoritative in-memory view of the tailnet, loaded from the store at start-up. It is a
// composition of one service per aggregate, not a god object: callers reach for state.users,
// state.nodes, state.preAuthKeys, state.apiKeys; changes come out of state.changes.

import type { Store } from '../store/index.js';
import { ChangeBus } from './change-bus.js';
import { UserService } from './users.js';
import { NodeService } from './nodes.js';
import { PreAuthKeyService } from './preauth-keys.js';
import { ApiKeyService } from './api-keys.js';
import { IpAllocator, type Allocation } from './ip-allocator.js';
import { Registration } from './registration.js';
import { RouteElection } from './route-election.js';
import { PolicyManager } from './policy-manager.js';

export interface StateOptions {
  baseDomain: string;
  serverUrl: string;
  /** Default node key expiry, ms; 0 = never. */
  nodeExpiryMs: number;
  prefixes: { v4: string; v6: string };
  allocation: Allocation;
  policy: { mode: 'file' | 'database'; path: string };
}

export class State {
  readonly store: Store;
  readonly changes: ChangeBus;
  readonly users: UserService;
  readonly nodes: NodeService;
  readonly preAuthKeys: PreAuthKeyService;
  readonly apiKeys: ApiKeyService;
  readonly registration: Registration;
  readonly options: StateOptions;
  /** The tailnet address pools (admin backfill of addresses). */
  readonly ips: IpAllocator;
  readonly routes: RouteElection;
  readonly policy: PolicyManager;

  private constructor(store: Store, changes: ChangeBus, users: UserService, nodes: NodeService, ips: IpAllocator, options: StateOptions) {
    this.store = store;
    this.changes = changes;
    this.users = users;
    this.nodes = nodes;
    this.options = options;
    this.ips = ips;
    this.routes = new RouteElection(nodes, changes);
    this.policy = new PolicyManager(store, nodes, users, changes, { ...options.policy, serverUrl: options.serverUrl }, this.routes);
    this.preAuthKeys = new PreAuthKeyService(store, users);
    this.apiKeys = new ApiKeyService(store);
    this.registration = new Registration(store, nodes, users, this.preAuthKeys, ips, {
      serverUrl: options.serverUrl,
      nodeExpiryMs: options.nodeExpiryMs,
      tagsNotOwned: (userId, tags) => this.policy.tagsNotOwned(userId, tags),
    });
  }

  static async load(store: Store, options: StateOptions): Promise<State> {
    const [users, nodes, keys] = await Promise.all([store.users.list(), store.nodes.list(), store.preAuthKeys.list()]);
    const ephemeralKeys = new Set(keys.filter((k) => k.ephemeral).map((k) => k.id));
    const ephemeralNodes = nodes.filter((n) => n.authKeyId !== null && ephemeralKeys.has(n.authKeyId)).map((n) => n.id);
    const changes = new ChangeBus();
    const ips = new IpAllocator(options.prefixes, options.allocation, nodes.flatMap((n) => [n.ipv4, n.ipv6]));
    const nodeService = new NodeService(store, changes, nodes, options.baseDomain, ephemeralNodes, ips);
    const userService = new UserService(store, changes, users, (id) => nodeService.countForUser(id));
    nodeService.attachUsers(userService);
    const state = new State(store, changes, userService, nodeService, ips, options);
    await state.policy.load();
    return state;
  }

  /** Writes what is still buffered (touched nodes) before the store closes. */
  async flush(): Promise<void> {
    await this.nodes.flush();
  }
}
