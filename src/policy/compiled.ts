// Owns compilePolicy and the CompiledPolicy it returns: the global rules compiled once per
// policy/topology, and lazily cached per-node views (packet filter, SSH policy, cap map,
// peers, peer AllowedIPs). No policy means allow-all; absent acls and grants mean allow-all.

import type { FilterRule } from '../tailcfg/types.js';
import { autoApproveRoutes } from './approve.js';
import { type CompiledGrants, type CompiledRule, MergeKeys, compileGrants, mergeRules } from './grants.js';
import { formatPrefix, parsePrefix } from './ip.js';
import { IPSet, IPSetBuilder } from './ipset.js';
import type { Grant, Policy } from './model.js';
import { SelfRules, viaRulesFor } from './node-rules.js';
import { NodeCollector, PeerIndex, ruleCarriesRoute } from './peers.js';
import { ReductionIndex } from './reduce.js';
import { type ReuseInput, reusableFilters } from './reuse.js';
import { Resolver } from './resolve.js';
import { SshCompiler } from './ssh.js';
import { type TestFailure, runPolicyTests } from './policy-tests.js';
import { type NodeInfo, type PolicyNode, type Topology, TopologyIndex, nodeInSet, nodeTouchesSet } from './topology.js';
import type { NodeCapMap, SSHPolicy } from './wire.js';

export interface CompileOptions {
  /** Base URL used in SSH check actions (holdAndDelegate). */
  serverUrl?: string;
  /**
   * The compile this one replaces. With the same Policy object, per-node packet filters of
   * nodes the topology change cannot affect are carried over instead of recomputed.
   */
  previous?: CompiledPolicy;
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
  readonly #filters = new Map<number, FilterRule[]>();
  readonly #viaRules = new Map<NodeInfo, CompiledRule[]>();
  readonly #peers = new Map<number, number[]>();
  #viaPeers: Map<NodeInfo, Set<NodeInfo>> | undefined;
  #collector: NodeCollector | undefined;

  constructor(policy: Policy | null, topology: Topology, opts: CompileOptions = {}) {
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

  #via(n: NodeInfo): CompiledRule[] {
    let l = this.#viaRules.get(n);
    if (!l) this.#viaRules.set(n, (l = viaRulesFor(n, this.#grants.via)));
    return l;
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
      const extra = [...this.#self.rulesFor(n), ...this.#via(n).map((r) => r.rule)];
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

  #peerIdx(): PeerIndex {
    this.#peerIndex ??= new PeerIndex(this.#grants.rules, this.topology);
    return this.#peerIndex;
  }

  #viaPeerMap(): Map<NodeInfo, Set<NodeInfo>> {
    if (this.#viaPeers) return this.#viaPeers;
    const m = new Map<NodeInfo, Set<NodeInfo>>();
    const add = (a: NodeInfo, b: NodeInfo) => {
      if (!m.has(a)) m.set(a, new Set());
      m.get(a)!.add(b);
    };
    if (this.#grants.via.length > 0) {
      for (const r of this.topology.tagged) {
        for (const rule of this.#via(r)) {
          const srcs = new Set<NodeInfo>();
          this.topology.nodesTouching(rule.src, srcs);
          for (const s of srcs) {
            add(r, s);
            add(s, r);
          }
        }
      }
    }
    this.#viaPeers = m;
    return m;
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
      for (const v of this.#viaPeerMap().get(n) ?? []) c.add(v.index);
    }
    let ids: number[];
    if (everyone) ids = infos.filter((x) => x !== n).map((x) => x.node.id);
    else {
      const order = Int32Array.from(c.list).sort();
      ids = [];
      for (const i of order) if (i !== n.index) ids.push(infos[i]!.node.id);
    }
    this.#peers.set(nodeId, ids);
    return ids;
  }

  /** The peer's AllowedIPs as the viewer sees them: its addresses plus reachable routes. */
  peerAllowedIPs(viewerId: number, peerId: number): string[] {
    const viewer = this.#info(viewerId);
    const peer = this.#info(peerId);
    const out = peer.addrs.map((a) => formatPrefix({ family: a.family, value: a.value, bits: a.family === 4 ? 32 : 128 }));
    const candidates = [...peer.subnetRouteTexts.filter((r) => this.#isPrimary(peer, r)), ...peer.exitRoutes];
    if (candidates.length === 0) return out;
    const { asSrc, asDst } = this.allowAll ? { asSrc: [], asDst: [] } : this.#peerIdx().rulesOf(viewer);
    const viaOnPeer = this.#via(peer).filter((r) => nodeTouchesSet(viewer, r.src));
    for (const route of candidates) {
      const p = parsePrefix(route);
      if (!p) continue;
      const rs = new IPSetBuilder().addPrefix(p).build();
      const ok =
        this.allowAll ||
        viewer.subnetRouteTexts.includes(route) ||
        asSrc.some((r) => ruleCarriesRoute(true, r, rs)) ||
        asDst.some((r) => ruleCarriesRoute(false, r, rs)) ||
        viaOnPeer.some((r) => r.dst.overlapsSet(rs));
      if (ok) out.push(route);
    }
    return out;
  }

  /** HA: the lowest node id announcing and approved for a prefix is its primary. */
  #isPrimary(n: NodeInfo, route: string): boolean {
    for (const r of this.topology.routers) {
      if (r.node.id < n.node.id && r.subnetRouteTexts.includes(route)) return false;
    }
    return true;
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
