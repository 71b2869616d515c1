// Changes are values: every mutation of the tailnet's state is described by one of these, and
// whoever fans changes out to connected nodes (the map batcher) consumes them.

export type Change =
  | { type: 'node-added'; nodeId: number }
  | { type: 'node-changed'; nodeId: number }
  | { type: 'node-removed'; nodeId: number }
  | { type: 'node-online'; nodeId: number; online: boolean }
  /**
   * Only the fields peers track cheaply changed: sent as a PeersChangedPatch. `firstEndpoints`:
   * the node had none before (it is joining or has never reported any).
   */
  | { type: 'node-patched'; nodeId: number; endpoints?: string[]; discoKey?: string; homeDerp?: number; firstEndpoints?: true }
  | { type: 'policy-changed' }
  | { type: 'user-changed'; userId: number }
  | { type: 'user-removed'; userId: number };
