// Builds MapResponses as JSON text: the full map a node gets when its stream starts, and the
// per-viewer deltas the batcher sends after. Peer entries come from the WireCache, so a node's
// JSON is encoded once per version however many peers receive it. Until the policy lands every
// node sees every other and the packet filter allows everything.

import type { State } from '../state/index.js';
import type { DERPMap, DNSConfig, FilterRule, PeerChange } from '../tailcfg/types.js';
import { userProfile, ownerId } from '../state/identity.js';
import { WireCache, toSelfNode, type WireContext } from './node-wire.js';

export const ALLOW_ALL_FILTER: FilterRule[] = [{ SrcIPs: ['*'], DstPorts: [{ IP: '*', Ports: { First: 0, Last: 65535 } }] }];

export interface MapperOptions {
  baseDomain: string;
  /** The tailnet's display name (headscale sends the server_url host). */
  domain: string;
  dnsConfig: () => DNSConfig;
  derpMap: () => DERPMap;
  capMap: Record<string, unknown[] | null>;
}

/** What changed in one batch window. */
export interface ChangeSet {
  changed: Set<number>;
  removed: Set<number>;
  online: Map<number, boolean>;
  patched: Map<number, PeerChange>;
  users: Set<number>;
  dnsChanged: boolean;
  derpChanged: boolean;
}

export class Mapper {
  readonly #state: State;
  readonly #opts: MapperOptions;
  readonly #cache = new WireCache();
  readonly #ctx: WireContext;

  constructor(state: State, opts: MapperOptions) {
    this.#state = state;
    this.#opts = opts;
    this.#ctx = {
      baseDomain: opts.baseDomain,
      capMap: opts.capMap,
      isOnline: (id) => state.nodes.isOnline(id),
      routesOf: (node) => ({ primary: state.routes.primaryRoutes(node.id), exit: state.routes.exitRoutes(node) }),
    };
  }

  forget(id: number): void {
    this.#cache.forget(id);
  }

  #selfJson(id: number): string | undefined {
    const node = this.#state.nodes.get(id);
    return node && JSON.stringify(toSelfNode(node, this.#ctx));
  }

  #profilesJson(userIds: Iterable<number>): string {
    const seen = new Set<number>();
    const out: string[] = [];
    for (const id of userIds) {
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(JSON.stringify(userProfile(this.#state.users.get(id))));
    }
    return `[${out.join(',')}]`;
  }

  /** The first message of a stream: everything a client needs to reach Running. */
  fullMap(selfId: number): string | undefined {
    const self = this.#state.nodes.get(selfId);
    const selfJson = this.#selfJson(selfId);
    if (!self || !selfJson) return undefined;
    const peers: string[] = [];
    const users: number[] = [ownerId(self)];
    for (const node of this.#state.nodes.list()) {
      if (node.id === selfId) continue;
      peers.push(this.#cache.json(node, this.#ctx));
      users.push(ownerId(node));
    }
    const parts = [
      `"Node":${selfJson}`,
      `"DERPMap":${JSON.stringify(this.#opts.derpMap())}`,
      `"Domain":${JSON.stringify(this.#opts.domain)}`,
      ...(peers.length > 0 ? [`"Peers":[${peers.join(',')}]`] : []),
      `"UserProfiles":${this.#profilesJson(users)}`,
      `"PacketFilter":${JSON.stringify(ALLOW_ALL_FILTER)}`,
      `"DNSConfig":${JSON.stringify(this.#opts.dnsConfig())}`,
      `"CollectServices":false`,
      `"ControlTime":${JSON.stringify(new Date().toISOString())}`,
      `"Debug":{"DisableLogTail":true}`,
    ];
    return `{${parts.join(',')}}`;
  }

  /** The delta one viewer receives for a batch, or undefined when nothing concerns it. */
  delta(viewerId: number, set: ChangeSet): string | undefined {
    const parts: string[] = [];
    if (set.changed.has(viewerId) || set.online.has(viewerId)) {
      const self = this.#selfJson(viewerId);
      if (self) parts.push(`"Node":${self}`);
    }
    const changed: string[] = [];
    const users: number[] = [...set.users];
    for (const id of set.changed) {
      if (id === viewerId) continue;
      const node = this.#state.nodes.get(id);
      if (!node) continue;
      changed.push(this.#cache.json(node, this.#ctx));
      users.push(ownerId(node));
    }
    if (changed.length > 0) parts.push(`"PeersChanged":[${changed.join(',')}]`);
    const removed = [...set.removed].filter((id) => id !== viewerId);
    if (removed.length > 0) parts.push(`"PeersRemoved":${JSON.stringify(removed)}`);
    const patches: PeerChange[] = [];
    const byId = new Map<number, PeerChange>();
    for (const [id, p] of set.patched) {
      if (id === viewerId || set.changed.has(id) || set.removed.has(id)) continue;
      byId.set(id, { ...p });
    }
    for (const [id, online] of set.online) {
      if (id === viewerId || set.changed.has(id) || set.removed.has(id)) continue;
      const node = this.#state.nodes.get(id);
      if (!node) continue;
      const patch = byId.get(id) ?? { NodeID: id };
      patch.Online = online;
      if (!online) patch.LastSeen = (node.lastSeen ?? new Date()).toISOString();
      byId.set(id, patch);
    }
    patches.push(...byId.values());
    if (patches.length > 0) parts.push(`"PeersChangedPatch":${JSON.stringify(patches)}`);
    if (users.length > 0 && (changed.length > 0 || set.users.size > 0)) parts.push(`"UserProfiles":${this.#profilesJson(users)}`);
    if (set.dnsChanged) parts.push(`"DNSConfig":${JSON.stringify(this.#opts.dnsConfig())}`);
    if (set.derpChanged) parts.push(`"DERPMap":${JSON.stringify(this.#opts.derpMap())}`);
    if (parts.length === 0) return undefined;
    parts.push(`"ControlTime":${JSON.stringify(new Date().toISOString())}`);
    return `{${parts.join(',')}}`;
  }
}
