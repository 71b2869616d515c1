// Owns compilePolicy and the CompiledPolicy it returns: the global rules compiled once per
// policy/topology, and lazily cached per-node views (packet filter, SSH policy, cap map,
// peers, peer AllowedIPs). No policy means allow-all; absent acls and grants mean allow-all.

import type { FilterRule } from '../tailcfg/types.js';
import { autoApproveRoutes } from './approve.js';
import { checkTailnetDomains } from './domains.js';
import { type CompiledGrants, type CompiledRule, MergeKeys, compileGrants, mergeRules } from './grants.js';
import { formatPrefix, parsePrefix } from './ip.js';
import { IPSet, IPSetBuilder } from './ipset.js';
import type { Grant, Policy } from './model.js';
import { SelfRules } from './node-rules.js';
import { NodeCollector, PeerIndex, ruleCarriesRoute } from './peers.js';
import { ReductionIndex } from './reduce.js';
import { type ReuseInput, reusableFilters } from './reuse.js';
import { Resolver } from './resolve.js';
import { SshCompiler } from './ssh.js';
import { type TestFailure, runPolicyTests } from './policy-tests.js';
import { type NodeInfo, type PolicyNode, type Topology, TopologyIndex, nodeInSet } from './topology.js';
import { ViaIndex } from './via.js';
import type { NodeCapMap, SSHPolicy } from './wire.js';

export interface CompileOptions {
  /** Base URL used in SSH check actions (holdAndDelegate). */
  serverUrl?: string;
  /**
   * The compile this one replaces. With the same Policy object, per-node packet filters of
   * nodes the topology change cannot affect are carried over instead of recomputed.
   */
  previous?: CompiledPolicy;
  /**
   * The domains that belong to the tailnet. When given, `user:*@<domain>` selectors and SSH
   * `localpart:*@<domain>` users naming another domain are refused (domains.ts).
   */
  tailnetDomains?: readonly string[];
}

export const FILTER_ALLOW_ALL: FilterRule[] = [{ SrcIPs: ['*'], DstPorts: [{ IP: '*', Ports: { First: 0, Last: 65535 } }] }];

const ALLOW_ALL_GRANT: Grant = {
  src: [{ kind: 'wildcard', text: '*' }],
  dst: [{ kind: 'wildcard', text: '*' }],
  ip: [{ proto: undefined, ports: [{ First: 0, Last: 65535 }] }],
  app: null,
  via: [],
};

export class CompiledPolicy {
  readonly policy: Policy | null;
  readonly topology: TopologyIndex;
  readonly allowAll: boolean;
  readonly #res: Resolver | null;
  readonly #grants: CompiledGrants;
  readonly #reduction: ReductionIndex;
  readonly #self: SelfRules;
  readonly #serverUrl: string;
  readonly #keys: MergeKeys;
  #peerIndex: PeerIndex | undefined;
  #ssh: SshCompiler | undefined;
  readonly #via: ViaIndex;
  readonly #filters = new Map<number, FilterRule[]>();
  readonly #peers = new Map<number, number[]>();
  readonly #everyone = new Map<number, boolean>();
  #noV4: Set<number> | undefined;
  #collector: NodeCollector | undefined;

  constructor(policy: Policy | null, topology: Topology, opts: CompileOptions = {}) {
    if (policy && opts.tailnetDomains) checkTailnetDomains(policy, opts.tailnetDomains);
    this.policy = policy;
    this.topology = new TopologyIndex(topology);
    this.#serverUrl = opts.serverUrl ?? '';
    // share merge keys with the previous compile so rules compare cheaply; start afresh when
    // the shared table has grown well beyond one policy's worth
    const prevKeys = opts.previous && opts.previous.policy === policy ? opts.previous.#keys : undefined;
    this.#keys = prevKeys && prevKeys.size < 4 * (opts.previous!.#grants.rules.length + topology.users.length + 64) ? prevKeys : new MergeKeys();
    // No policy: FilterAllowAll. A policy without acls and grants also allows everything;
    // SaaS writes that as the wildcard grant compiled out (`*` sources expanded).
    this.allowAll = policy === null;
    this.#res = policy ? new Resolver(policy, this.topology) : null;
    const effective = policy && policy.acls === null && policy.grants === null ? { ...policy, grants: [ALLOW_ALL_GRANT] } : policy;
    this.#grants = this.allowAll || !this.#res ? { rules: [], self: [], via: [] } : compileGrants(effective!, this.#res, this.#keys);
    this.#reduction = new ReductionIndex(this.#grants.rules, this.topology);
    this.#self = new SelfRules(this.#grants.self, this.topology);
    this.#via = new ViaIndex(this.#grants.via, this.topology);
    const prev = opts.previous;
    if (prev && prev.policy === policy && policy !== null && !this.allowAll) {
      const kept = reusableFilters(prev.#reuseInput(), { topology: this.topology, reduction: this.#reduction, hasVia: this.#grants.via.length > 0, keys: this.#keys });
      for (const [id, rules] of kept) this.#filters.set(id, rules);
    }
  }

  #reuseInput(): ReuseInput {
    return { topology: this.topology, reduction: this.#reduction, filters: this.#filters, hasVia: this.#grants.via.length > 0, keys: this.#keys };
  }

  /** The merged global rules (before per-node reduction). */
  globalFilter(): FilterRule[] {
    return this.allowAll ? FILTER_ALLOW_ALL : this.#grants.rules.map((r) => r.rule);
  }

  #info(nodeId: number): NodeInfo {
    const n = this.topology.byId.get(nodeId);
    if (!n) throw new RangeError(`unknown node ${nodeId}`);
    return n;
  }

  /** The node's packet filter: global rules reduced to it, plus its self and via rules. */
  packetFilterFor(nodeId: number): FilterRule[] {
    const cached = this.#filters.get(nodeId);
    if (cached) return cached;
    const n = this.#info(nodeId);
    let rules: FilterRule[];
    if (this.allowAll) rules = FILTER_ALLOW_ALL;
    else {
      rules = this.#reduction.reduce(n);
      const extra = [...this.#self.rulesFor(n), ...this.#via.rulesFor(n).map((r) => r.rule)];
      if (extra.length > 0) {
        const wrap = (rule: FilterRule): CompiledRule => ({ rule, src: IPSet.EMPTY, dst: IPSet.EMPTY, entries: [], capDsts: [] });
        rules = mergeRules([...rules, ...extra].map(wrap), this.#keys).map((r) => r.rule);
      }
    }
    this.#filters.set(nodeId, rules);
    return rules;
  }

  /** The node's SSH policy; null when the policy has no `ssh` section. */
  sshPolicyFor(nodeId: number): SSHPolicy | null {
    if (!this.policy || this.policy.ssh === null || !this.#res) return null;
    this.#ssh ??= new SshCompiler(this.policy, this.#res, this.#serverUrl);
    return this.#ssh.forNode(this.#info(nodeId));
  }

  /** Node capabilities from nodeAttrs and randomizeClientPort (values null, as SaaS sends). */
  capMapFor(nodeId: number): NodeCapMap {
    const n = this.#info(nodeId);
    const out: NodeCapMap = {};
    if (!this.policy || !this.#res) return out;
    if (this.policy.randomizeClientPort) out['randomize-client-port'] = null;
    for (const na of this.policy.nodeAttrs) {
      if (na.attr.length === 0 || !nodeInSet(n, this.#res.resolveAll(na.target))) continue;
      for (const a of na.attr) if (!(a in out)) out[a] = null;
    }
    return out;
  }

  /**
   * Nodes with the `disable-ipv4` attribute. SaaS leaves such a node's IPv4 address out of its
   * own map and its peers' maps, and leaves every peer's IPv4 address out of its map.
   */
  ipv4DisabledNodes(): ReadonlySet<number> {
    if (this.#noV4) return this.#noV4;
    const out = new Set<number>();
    for (const na of this.policy?.nodeAttrs ?? []) {
      if (!na.attr.includes('disable-ipv4') || !this.#res) continue;
      const set = this.#res.resolveAll(na.target);
      for (const n of this.topology.infos) if (nodeInSet(n, set)) out.add(n.node.id);
    }
    this.#noV4 = out;
    return out;
  }

  #peerIdx(): PeerIndex {
    this.#peerIndex ??= new PeerIndex(this.#grants.rules, this.topology);
    return this.#peerIndex;
  }

  /**
   * True when nodeId sees every other node (no policy, or a rule as wide as `*` touching it),
   * answered without listing them: a full-mesh tailnet never builds N lists of N peers.
   */
  seesEveryone(nodeId: number): boolean {
    if (this.allowAll) return true;
    let everyone = this.#everyone.get(nodeId);
    if (everyone === undefined) {
      this.#collector ??= new NodeCollector(this.topology.infos.length);
      this.#collector.reset();
      everyone = this.#peerIdx().collect(this.#info(nodeId), this.#collector);
      this.#everyone.set(nodeId, everyone);
    }
    return everyone;
  }

  /** Ids of the nodes visible to nodeId (either may reach the other), in topology order. */
  peersOf(nodeId: number): number[] {
    const cached = this.#peers.get(nodeId);
    if (cached) return cached;
    const n = this.#info(nodeId);
    const infos = this.topology.infos;
    this.#collector ??= new NodeCollector(infos.length);
    const c = this.#collector;
    c.reset();
    let everyone = this.allowAll;
    if (!everyone) {
      everyone = this.#peerIdx().collect(n, c);
      this.#self.peersOf(n, c);
      for (const v of this.#via.peersOf(n)) c.add(v.index);
    }
    let ids: number[];
    if (everyone) ids = infos.filter((x) => x !== n).map((x) => x.node.id);
    else {
      const order = Int32Array.from(c.list).sort();
      ids = [];
      for (const i of order) if (i !== n.index) ids.push(infos[i]!.node.id);
    }
    this.#everyone.set(nodeId, everyone);
    if (!everyone) this.#peers.set(nodeId, ids); // "everyone" lists are cheap to redo and O(N) each
    return ids;
  }

  /** The peer's AllowedIPs as the viewer sees them: its addresses plus reachable routes. */
  peerAllowedIPs(viewerId: number, peerId: number): string[] {
    const peer = this.#info(peerId);
    const noV4 = this.ipv4DisabledNodes();
    const addrs = noV4.has(viewerId) || noV4.has(peerId) ? peer.addrs.filter((a) => a.family === 6) : peer.addrs;
    const out = addrs.map((a) => formatPrefix({ family: a.family, value: a.value, bits: a.family === 4 ? 32 : 128 }));
    return [...out, ...this.peerRoutes(viewerId, peerId)];
  }

  /**
   * The peer's subnet and exit routes in the viewer's AllowedIPs for it (§4.3). A subnet route
   * is shown on its HA primary when a regular rule lets the viewer use it, or on the router a
   * via grant steers the viewer to (via.ts). The subnet routes are also the peer's
   * PrimaryRoutes as this viewer sees them.
   */
  peerRoutes(viewerId: number, peerId: number): string[] {
    const viewer = this.#info(viewerId);
    const peer = this.#info(peerId);
    const out: string[] = [];
    if (peer.subnetRoutes.length === 0 && peer.exitRoutes.length === 0) return out;
    const { asSrc, asDst } = this.allowAll ? { asSrc: [], asDst: [] } : this.#peerIdx().rulesOf(viewer);
    const regular = (route: string, rs: IPSet) =>
      this.allowAll ||
      viewer.subnetRouteTexts.includes(route) ||
      asSrc.some((r) => ruleCarriesRoute(true, r, rs)) ||
      asDst.some((r) => ruleCarriesRoute(false, r, rs));
    for (const route of peer.subnetRouteTexts) {
      const p = parsePrefix(route);
      if (!p) continue;
      const rs = new IPSetBuilder().addPrefix(p).build();
      if (regular(route, rs)) {
        if (this.topology.isPrimary(peer, route)) out.push(route);
      } else if (this.#via.steer(viewer, route, rs) === peer) out.push(route);
    }
    for (const route of peer.exitRoutes) {
      const p = parsePrefix(route);
      if (p && (regular(route, new IPSetBuilder().addPrefix(p).build()) || this.#via.exitVia(viewer, peer))) out.push(route);
    }
    return out;
  }

  /** Routes the policy's autoApprovers approve for this node (of those it announces). */
  autoApprove(node: PolicyNode): { routes: string[] } {
    if (!this.policy || !this.#res) return { routes: [] };
    return { routes: autoApproveRoutes(this.policy, this.#res, node) };
  }

  /** Evaluate `tests` and `sshTests`; an empty list means every test passed. */
  runTests(): TestFailure[] {
    if (!this.policy) return [];
    return runPolicyTests(this.policy, this, this.#res!);
  }
}

export function compilePolicy(policy: Policy | null, topology: Topology, opts: CompileOptions = {}): CompiledPolicy {
  return new CompiledPolicy(policy, topology, opts);
}
