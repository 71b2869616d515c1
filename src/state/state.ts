// The authoritative in-memory view of the tailnet, loaded from the store at start-up. It is a
// composition of one service per aggregate, not a god object: callers reach for state.users,
// state.nodes, state.preAuthKeys, state.apiKeys; changes come out of state.changes.

import type { Store } from '../store/index.js';
import { ChangeBus } from './change-bus.js';
import { UserService } from './users.js';
import { NodeService } from './nodes.js';
import { PreAuthKeyService } from './preauth-keys.js';
import { ApiKeyService } from './api-keys.js';

export interface StateOptions {
  baseDomain: string;
}

export class State {
  readonly store: Store;
  readonly changes: ChangeBus;
  readonly users: UserService;
  readonly nodes: NodeService;
  readonly preAuthKeys: PreAuthKeyService;
  readonly apiKeys: ApiKeyService;

  private constructor(store: Store, changes: ChangeBus, users: UserService, nodes: NodeService) {
    this.store = store;
    this.changes = changes;
    this.users = users;
    this.nodes = nodes;
    this.preAuthKeys = new PreAuthKeyService(store, users);
    this.apiKeys = new ApiKeyService(store);
  }

  static async load(store: Store, options: StateOptions): Promise<State> {
    const [users, nodes] = await Promise.all([store.users.list(), store.nodes.list()]);
    const changes = new ChangeBus();
    const nodeService = new NodeService(store, changes, nodes, options.baseDomain);
    const userService = new UserService(store, changes, users, (id) => nodeService.countForUser(id));
    nodeService.attachUsers(userService);
    return new State(store, changes, userService, nodeService);
  }
}
