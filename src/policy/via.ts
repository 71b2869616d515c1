// Owns via grants (§3.10) per node: the rules a via router receives, which nodes see each
// other through via grants, and route steering — which router carries a subnet route (or an
// exit) for one viewer. A grant with `via` names the routers its sources reach its
// destinations through; it adds no global rule.
//
// Steering, as the SaaS captures show it: for a viewer in a via grant's sources and a subnet
// route R overlapping the grant's destinations, R appears (in AllowedIPs and PrimaryRoutes)
// on exactly one router serving R and carrying a via tag — the HA primary when it is one of
// them, else the lowest-id online one — and on no other router. When a regular (non-via) rule
// also gives the viewer R, ordinary HA election decides instead. For autogroup:internet the
// viewer's exit routes come from the exit nodes carrying a via tag (unless a regular rule
// gives it the internet anyway).

import type { FilterRule, NetPortRange } from '../tailcfg/types.js';
import { formatAddr, formatPrefix } from './ip.js';
import { type IPSet, IPSetBuilder } from './ipset.js';
import { type CompiledRule, INTERNET_RANGE_STRINGS, type ViaGrant } from './grants.js';
import { INTERNET } from './resolve.js';
import { type NodeInfo, type TopologyIndex, nodeInSet } from './topology.js';

/** What one via grant gives one router: the destination prefixes it serves. */
interface ViaTarget {
  grant: ViaGrant;
  /** DstPorts IP strings: the grant's prefixes that overlap the router's routes, as written. */
  prefixes: string[];
  dst: IPSet;
}

export class ViaIndex {
  readonly #grants: ViaGrant[];
  readonly #topo: TopologyIndex;
  readonly #targets = new Map<NodeInfo, ViaTarget[]>();
  readonly #rules = new Map<NodeInfo, CompiledRule[]>();
  readonly #viewerGrants = new Map<NodeInfo, number[]>();
  /** "grant indices|route" → the router chosen for it (null: none carries a via tag). */
  readonly #chosen = new Map<string, NodeInfo | null>();
  #peers: Map<NodeInfo, Set<NodeInfo>> | undefined;

  constructor(grants: ViaGrant[], topo: TopologyIndex) {
    this.#grants = grants;
    this.#topo = topo;
  }

  get empty(): boolean {
    return this.#grants.length === 0;
  }

  /** The via grants that reach router n, with the prefixes it serves for each. */
  #targetsOn(n: NodeInfo): ViaTarget[] {
    let l = this.#targets.get(n);
    if (l) return l;
    l = [];
    if (n.tagged) {
      for (const grant of this.#grants) {
        if (!grant.via.some((t) => n.node.tags.includes(t))) continue;
        const prefixes: string[] = [];
        const b = new IPSetBuilder();
        for (const set of grant.dsts) {
          for (const p of set.prefixes()) {
            const ps = new IPSetBuilder().addPrefix(p).build();
            if (!n.subnetRoutes.some((r) => ps.overlapsPrefix(r))) continue;
            prefixes.push(p.bits === (p.family === 4 ? 32 : 128) ? formatAddr(p.family, p.value) : formatPrefix(p));
            b.addSet(ps);
          }
        }
        if (grant.internet && n.isExit) {
          prefixes.push(...INTERNET_RANGE_STRINGS);
          b.addSet(INTERNET);
        }
        if (prefixes.length > 0) l.push({ grant, prefixes, dst: b.build() });
      }
    }
    this.#targets.set(n, l);
    return l;
  }

  /** Rules on router n: one per via grant reaching it and `ip` entry (app-only grants add none). */
  rulesFor(n: NodeInfo): CompiledRule[] {
    let out = this.#rules.get(n);
    if (out) return out;
    out = [];
    for (const { grant: g, prefixes, dst } of this.#targetsOn(n)) {
      for (const cap of g.ip) {
        const DstPorts: NetPortRange[] = [];
        for (const ip of prefixes) for (const p of cap.ports) DstPorts.push({ IP: ip, Ports: { ...p } });
        const rule: FilterRule = { SrcIPs: g.srcIPs, DstPorts };
        if (cap.proto) rule.IPProto = cap.proto;
        out.push({ rule, src: g.src, dst, entries: DstPorts.map(() => dst), capDsts: [] });
      }
    }
    this.#rules.set(n, out);
    return out;
  }

  /** Nodes that see n because of via grants: a router sees the grants' sources and they see it. */
  peersOf(n: NodeInfo): ReadonlySet<NodeInfo> {
    if (!this.#peers) {
      const m = new Map<NodeInfo, Set<NodeInfo>>();
      const add = (a: NodeInfo, b: NodeInfo) => {
        let s = m.get(a);
        if (!s) m.set(a, (s = new Set()));
        s.add(b);
      };
      const srcNodes = new Map<IPSet, Set<NodeInfo>>();
      if (!this.empty) {
        for (const r of this.#topo.tagged) {
          for (const { grant } of this.#targetsOn(r)) {
            let srcs = srcNodes.get(grant.src);
            if (!srcs) {
              srcs = new Set();
              this.#topo.nodesTouching(grant.src, srcs);
              srcNodes.set(grant.src, srcs);
            }
            for (const s of srcs) {
              if (s === r) continue;
              add(r, s);
              add(s, r);
            }
          }
        }
      }
      this.#peers = m;
    }
    return this.#peers.get(n) ?? new Set();
  }

  /** Indices of the via grants whose sources include the viewer's addresses. */
  #grantsOf(viewer: NodeInfo): number[] {
    let l = this.#viewerGrants.get(viewer);
    if (!l) {
      l = [];
      this.#grants.forEach((g, i) => {
        if (nodeInSet(viewer, g.src)) l!.push(i);
      });
      this.#viewerGrants.set(viewer, l);
    }
    return l;
  }

  /**
   * For a subnet route of some router: undefined when no via grant of the viewer's covers it;
   * otherwise the one router that carries it for the viewer (null when no router with a via
   * tag serves it, so no router does).
   */
  steer(viewer: NodeInfo, route: string, routeSet: IPSet): NodeInfo | null | undefined {
    if (this.empty) return undefined;
    const matching = this.#grantsOf(viewer).filter((i) => this.#grants[i]!.dsts.some((d) => d.overlapsSet(routeSet)));
    if (matching.length === 0) return undefined;
    const key = `${matching.join(',')}|${route}`;
    const hit = this.#chosen.get(key);
    if (hit !== undefined) return hit;
    const tags = new Set(matching.flatMap((i) => this.#grants[i]!.via));
    const candidates = this.#topo.routers.filter((r) => r.subnetRouteTexts.includes(route) && r.node.tags.some((t) => tags.has(t)));
    const lowest = (l: NodeInfo[]) => l.reduce<NodeInfo | null>((a, b) => (a === null || b.node.id < a.node.id ? b : a), null);
    const chosen =
      candidates.find((c) => this.#topo.isPrimary(c, route)) ?? lowest(candidates.filter((c) => c.node.online !== false)) ?? lowest(candidates);
    this.#chosen.set(key, chosen);
    return chosen;
  }

  /** Whether a via grant of the viewer's to autogroup:internet goes through exit node n. */
  exitVia(viewer: NodeInfo, n: NodeInfo): boolean {
    if (this.empty || !n.isExit) return false;
    return this.#grantsOf(viewer).some((i) => {
      const g = this.#grants[i]!;
      return g.internet && g.via.some((t) => n.node.tags.includes(t));
    });
  }
}
