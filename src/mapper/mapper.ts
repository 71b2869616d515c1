// Builds MapResponses as JSON text: the full map a node gets when its stream starts, and the
// per-viewer deltas the batcher sends after. Peer entries come from the WireCache, so a node's
// JSON is encoded once per version however many peers receive it. The access policy decides
// which peers each node sees, its packet filter, SSH policy and extra capabilities; without a
// policy every node sees every other and the filter allows everything. With a policy, a peer's
// routes and addresses can differ per viewer (peer-shape.ts); such entries are encoded for
// that viewer alone.

import type { State } from '../state/index.js';
import type { Node as DomainNode } from '../domain/node.js';
import type { DERPMap, DNSConfig, PeerChange } from '../tailcfg/types.js';
import type { CompiledPolicy } from '../policy/index.js';
import { userProfile, ownerId } from '../state/identity.js';
import { WireCache, toSelfNode, toWireNode, type WireContext } from './node-wire.js';
import { answerFor, type PolicyAnswer, type ViewerView } from './viewer-view.js';
import { SentShapes, applySelfShape, applyShape, peerShape, sharedFits, shapesSomePeer } from './peer-shape.js';
import { PeerBlocks, type PeerEntry } from './peer-blocks.js';
import { encodeFrame, frameFromBody } from './frames.js';

export { ALLOW_ALL_FILTER } from './viewer-view.js';

export interface MapperOptions {
  baseDomain: string;
  /** The tailnet's display name (headscale sends the server_url host). */
  domain: string;
  dnsConfig: () => DNSConfig;
  derpMap: () => DERPMap;
  capMap: Record<string, unknown[] | null>;
  /** Node IDs per shared compressed block of a full map's peers (default 64). */
  peerBlockSize?: number;
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
  policyChanged: boolean;
  /** The batch's ControlTime (ISO 8601). */
  at: string;
}

export class Mapper {
  readonly #state: State;
  readonly #opts: MapperOptions;
  readonly #cache = new WireCache();
  readonly #ctx: WireContext;
  readonly #views = new Map<number, ViewerView>();
  readonly #shapes = new SentShapes();
  readonly #blocks: PeerBlocks;
  readonly #answers = new Map<number, { compiled: CompiledPolicy | null; answer: PolicyAnswer }>();
  /** The current batch's peer news for viewers it does not concern personally (see `delta`). */
  #common: { set: ChangeSet; json: string | undefined } | undefined;

  constructor(state: State, opts: MapperOptions) {
    this.#state = state;
    this.#opts = opts;
    this.#blocks = new PeerBlocks(opts.peerBlockSize);
    this.#ctx = {
      baseDomain: opts.baseDomain,
      capMap: opts.capMap,
      isOnline: (id) => state.nodes.isOnline(id),
      routesOf: (node) => ({ primary: state.routes.primaryRoutes(node.id), exit: state.routes.exitRoutes(node) }),
    };
  }

  /** The node changed (or came or went): its peer JSON is rebuilt when next needed. */
  forget(id: number): void {
    this.#cache.forget(id);
    this.#blocks.touch(id);
  }

  /** The node's Online flag flipped (its peer JSON shows it). */
  onlineChanged(id: number): void {
    this.#blocks.touch(id);
  }

  /** The node has no stream left: its view is rebuilt by the next full map. */
  forgetViewer(id: number): void {
    this.#views.delete(id);
    this.#answers.delete(id);
    this.#shapes.forget(id);
  }

  /** The policy's answer for a node, kept while the compiled policy is the same object. */
  #answer(nodeId: number): PolicyAnswer {
    const compiled = this.#state.policy.compiled();
    const hit = this.#answers.get(nodeId);
    if (hit && hit.compiled === compiled) return hit.answer;
    const answer = answerFor(compiled, nodeId);
    this.#answers.set(nodeId, { compiled, answer });
    return answer;
  }

  #selfJson(id: number, answer: PolicyAnswer): string | undefined {
    const node = this.#state.nodes.get(id);
    if (!node) return undefined;
    const self = applySelfShape(toSelfNode(node, this.#ctx), this.#state.policy.compiled(), id);
    self.CapMap = { ...this.#opts.capMap, ...answer.capMap };
    return JSON.stringify(self);
  }

  /** A peer as this viewer sees it: shared JSON, unless the policy shapes it for this viewer. */
  #peerJson(viewerId: number, peer: DomainNode): string {
    return this.#peerEntry(viewerId, peer).json;
  }

  #peerEntry(viewerId: number, peer: DomainNode): PeerEntry {
    const shared = this.#cache.json(peer, this.#ctx);
    const compiled = this.#state.policy.compiled();
    if (!compiled) return { id: peer.id, json: shared, shared: true };
    const shape = peerShape(compiled, viewerId, peer.id);
    this.#shapes.record(viewerId, compiled, peer.id, shape);
    if (sharedFits(shape, this.#ctx.routesOf(peer))) return { id: peer.id, json: shared, shared: true };
    return { id: peer.id, json: JSON.stringify(applyShape(toWireNode(peer, this.#ctx), shape)), shared: false };
  }

  /**
   * Whether the viewer sees every other node in its shared form: no per-viewer peer list and
   * no policy feature (routes, disable-ipv4) that reshapes a peer for some viewers.
   */
  #seesAllShared(answer: PolicyAnswer): boolean {
    if (answer.peers !== null) return false;
    const compiled = this.#state.policy.compiled();
    return compiled === null || !shapesSomePeer(compiled);
  }

  #visible(answer: PolicyAnswer, viewerId: number, id: number): boolean {
    return id !== viewerId && (answer.peers === null || answer.peers.has(id));
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
    const parts = this.#fullMapParts(selfId);
    if (!parts) return undefined;
    const peers = parts.peers.length > 0 ? `,"Peers":[${parts.peers.map((p) => p.json).join(',')}]` : '';
    return parts.before + peers + parts.after;
  }

  /** The full map framed for the wire; with zstd, peer blocks are compressed once and shared. */
  fullMapFrame(selfId: number, zstd: boolean): Buffer | undefined {
    if (!zstd) {
      const json = this.fullMap(selfId);
      return json === undefined ? undefined : encodeFrame(json, false);
    }
    const answer = this.#answer(selfId);
    if (this.#seesAllShared(answer)) {
      // every node but the viewer, in shared form: cached blocks need no per-peer work
      const nodes = this.#state.nodes.sorted();
      const head = this.#head(selfId, answer);
      if (!head) return undefined;
      const after = this.#tail(this.#state.nodes.owners(), answer); // the viewer's own user among them
      return frameFromBody(this.#blocks.sharedBody(head.text, nodes, selfId, (n) => this.#cache.json(n, this.#ctx), after));
    }
    const parts = this.#fullMapParts(selfId, answer);
    return parts && frameFromBody(this.#blocks.body(parts.before, parts.peers, parts.after, selfId));
  }

  #fullMapParts(selfId: number, answer = this.#answer(selfId)): { before: string; peers: PeerEntry[]; after: string } | undefined {
    const head = this.#head(selfId, answer);
    if (!head) return undefined;
    const peers: PeerEntry[] = [];
    const users: number[] = [head.owner];
    for (const node of this.#state.nodes.sorted()) {
      if (!this.#visible(answer, selfId, node.id)) continue;
      peers.push(this.#peerEntry(selfId, node));
      users.push(ownerId(node));
    }
    return { before: head.text, peers, after: this.#tail(users, answer) };
  }

  /** A full map's text up to the peers (it opens the object); records what the viewer is shown. */
  #head(selfId: number, answer: PolicyAnswer): { text: string; owner: number } | undefined {
    const self = this.#state.nodes.get(selfId);
    this.#shapes.reset(selfId, this.#state.policy.compiled());
    const selfJson = this.#selfJson(selfId, answer);
    if (!self || !selfJson) return undefined;
    const { filterJson, sshJson } = answer;
    this.#views.set(selfId, { peers: answer.peers, filterJson, sshJson });
    const text = [
      `{"Node":${selfJson}`,
      `"DERPMap":${JSON.stringify(this.#opts.derpMap())}`,
      `"Domain":${JSON.stringify(this.#opts.domain)}`,
    ].join(',');
    return { text, owner: ownerId(self) };
  }

  /** A full map's text after the peers (it closes the object); `owners` includes the viewer's. */
  #tail(owners: Iterable<number>, answer: PolicyAnswer): string {
    const { filterJson, sshJson } = answer;
    return [
      '',
      `"UserProfiles":${this.#profilesJson(owners)}`,
      `"PacketFilter":${filterJson}`,
      ...(sshJson ? [`"SSHPolicy":${sshJson}`] : []),
      `"DNSConfig":${JSON.stringify(this.#opts.dnsConfig())}`,
      `"CollectServices":false`,
      `"ControlTime":${JSON.stringify(new Date().toISOString())}`,
      `"Debug":{"DisableLogTail":true}}`,
    ].join(',');
  }

  /**
   * The messages one viewer receives for a batch (none when nothing concerns it). A viewer the
   * batch does not concern personally and who sees every node in shared form gets the batch's
   * peer news as a message built once per batch and shared by all such viewers, then, after a
   * policy change, a small message of its own (its node, filter, SSH policy): a policy change
   * during a join storm must not make every viewer's copy of the joins its own to compress.
   */
  delta(viewerId: number, set: ChangeSet): string[] {
    const answer = this.#answer(viewerId);
    const view = this.#views.get(viewerId);
    if (view && this.#hearsSharedNews(viewerId, set, answer, view)) {
      if (this.#common?.set !== set) {
        const { changed, removed } = this.#peerDiff(viewerId, set, answer, view);
        this.#common = { set, json: this.#message(this.#news(viewerId, set, answer, changed, removed), set) };
      }
      const moved = this.#moved(viewerId, answer, (id) => set.changed.has(id) || set.removed.has(id)).map((id) => this.#peerJson(viewerId, this.#state.nodes.get(id)!));
      const own = this.#message([...this.#ownNode(viewerId, set, answer), ...(moved.length > 0 ? [`"PeersChanged":[${moved.join(',')}]`] : []), ...this.#policyParts(viewerId, answer, view)], set);
      const news = this.#common.json;
      return news === undefined ? (own === undefined ? [] : [own]) : own === undefined ? [news] : [news, own];
    }
    const current = view ?? { peers: null, filterJson: '', sshJson: '' };
    const { changed, removed } = this.#peerDiff(viewerId, set, answer, current);
    let listed: Set<number> | undefined; // built only when the policy did change
    changed.push(...this.#moved(viewerId, answer, (id) => (listed ??= new Set([...changed, ...removed])).has(id)));
    const json = this.#message([...this.#ownNode(viewerId, set, answer), ...this.#news(viewerId, set, answer, changed, removed), ...this.#policyParts(viewerId, answer, current)], set);
    return json === undefined ? [] : [json];
  }

  #hearsSharedNews(viewerId: number, set: ChangeSet, answer: PolicyAnswer, view: ViewerView): boolean {
    if (set.changed.has(viewerId) || set.online.has(viewerId) || set.patched.has(viewerId) || set.removed.has(viewerId)) return false;
    return view.peers === null && this.#seesAllShared(answer) && this.#shapes.isPlain(viewerId);
  }

  #message(parts: string[], set: ChangeSet): string | undefined {
    if (parts.length === 0) return undefined;
    parts.push(`"ControlTime":${JSON.stringify(set.at || new Date().toISOString())}`);
    return `{${parts.join(',')}}`;
  }

  /** The viewer's own node, when the batch may have changed how it looks to itself. */
  #ownNode(viewerId: number, set: ChangeSet, answer: PolicyAnswer): string[] {
    if (!set.changed.has(viewerId) && !set.online.has(viewerId) && !set.policyChanged) return [];
    const self = this.#selfJson(viewerId, answer);
    return self ? [`"Node":${self}`] : [];
  }

  /** Peers to send whole and peers to drop, from what the viewer saw and now sees. */
  #peerDiff(viewerId: number, set: ChangeSet, answer: PolicyAnswer, view: ViewerView): { changed: number[]; removed: number[] } {
    const changed: number[] = [];
    const removed: number[] = [];
    if (answer.peers === null && view.peers === null) {
      // The viewer saw and sees every other node.
      for (const id of set.changed) if (id !== viewerId && this.#state.nodes.get(id)) changed.push(id);
      for (const id of set.removed) if (id !== viewerId) removed.push(id);
    } else if (answer.peers !== null && answer.peers === view.peers) {
      // The same policy answer as last time: only this batch's own nodes can differ.
      for (const id of set.changed) if (answer.peers.has(id) && this.#state.nodes.get(id)) changed.push(id);
      for (const id of set.removed) if (answer.peers.has(id)) removed.push(id);
    } else {
      const now = answer.peers ?? this.#allExcept(viewerId);
      const before = view.peers ?? this.#allBefore(viewerId, set);
      for (const id of now) if (!before.has(id) || set.changed.has(id)) changed.push(id);
      for (const id of before) if (!now.has(id)) removed.push(id);
    }
    return { changed, removed };
  }

  /** A recompile can reshape peers that are otherwise unchanged (a route moved, disable-ipv4). */
  #moved(viewerId: number, answer: PolicyAnswer, listed: (id: number) => boolean): number[] {
    const visible = (id: number) => !listed(id) && this.#visible(answer, viewerId, id) && this.#state.nodes.get(id) !== undefined;
    return this.#shapes.moved(viewerId, this.#state.policy.compiled(), visible);
  }

  /** PeersChanged, PeersRemoved, patches, the profiles they need, DNS and DERP changes. */
  #news(viewerId: number, set: ChangeSet, answer: PolicyAnswer, changed: number[], removed: number[]): string[] {
    const parts: string[] = [];
    const users: number[] = [...set.users];
    const peerJson: string[] = [];
    for (const id of changed) {
      const node = this.#state.nodes.get(id);
      if (!node) continue;
      peerJson.push(this.#peerJson(viewerId, node));
      users.push(ownerId(node));
    }
    if (peerJson.length > 0) parts.push(`"PeersChanged":[${peerJson.join(',')}]`);
    if (removed.length > 0) parts.push(`"PeersRemoved":${JSON.stringify(removed)}`);
    const patches = this.#patches(viewerId, set, answer);
    if (patches.length > 0) parts.push(`"PeersChangedPatch":${JSON.stringify(patches)}`);
    if (users.length > 0 && (peerJson.length > 0 || set.users.size > 0)) parts.push(`"UserProfiles":${this.#profilesJson(users)}`);
    if (set.dnsChanged) parts.push(`"DNSConfig":${JSON.stringify(this.#opts.dnsConfig())}`);
    if (set.derpChanged) parts.push(`"DERPMap":${JSON.stringify(this.#opts.derpMap())}`);
    return parts;
  }

  /** The viewer's packet filter and SSH policy where they differ from what it has; notes what it now has. */
  #policyParts(viewerId: number, answer: PolicyAnswer, view: ViewerView): string[] {
    const parts: string[] = [];
    const { filterJson, sshJson } = answer;
    if (filterJson !== view.filterJson) parts.push(`"PacketFilter":${filterJson}`);
    if (sshJson !== view.sshJson) parts.push(`"SSHPolicy":${sshJson || '{"rules":[]}'}`);
    if (view.peers !== answer.peers || view.filterJson !== filterJson || view.sshJson !== sshJson || !this.#views.has(viewerId)) {
      this.#views.set(viewerId, { peers: answer.peers, filterJson, sshJson });
    }
    return parts;
  }

  #allExcept(viewerId: number): Set<number> {
    const out = new Set<number>();
    for (const n of this.#state.nodes.sorted()) if (n.id !== viewerId) out.add(n.id);
    return out;
  }

  /** Without a policy the viewer saw every node except those this batch added. */
  #allBefore(viewerId: number, set: ChangeSet): Set<number> {
    const out = new Set<number>(set.removed);
    for (const n of this.#state.nodes.sorted()) if (n.id !== viewerId && !set.changed.has(n.id)) out.add(n.id);
    out.delete(viewerId);
    return out;
  }

  #patches(viewerId: number, set: ChangeSet, answer: PolicyAnswer): PeerChange[] {
    const byId = new Map<number, PeerChange>();
    const eligible = (id: number) => this.#visible(answer, viewerId, id) && !set.changed.has(id) && !set.removed.has(id);
    for (const [id, p] of set.patched) if (eligible(id)) byId.set(id, { ...p });
    for (const [id, online] of set.online) {
      if (!eligible(id)) continue;
      const node = this.#state.nodes.get(id);
      if (!node) continue;
      const patch = byId.get(id) ?? { NodeID: id };
      patch.Online = online;
      if (!online) patch.LastSeen = (node.lastSeen ?? new Date()).toISOString();
      byId.set(id, patch);
    }
    return [...byId.values()];
  }
}
