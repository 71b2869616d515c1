// Owns the rules that exist per node rather than globally: autogroup:self (§3.9, cached per
// user) and via grants (§3.10). Each comes with its matcher sets for peer visibility.

import type { FilterRule, NetPortRange } from '../tailcfg/types.js';
import { formatAddr, formatPrefix } from './ip.js';
import { IPSet, IPSetBuilder } from './ipset.js';
import { type CompiledRule, INTERNET_RANGE_STRINGS, type SelfGrant, type ViaGrant } from './grants.js';
import { INTERNET, nodesToSet } from './resolve.js';
import { type NodeInfo, type TopologyIndex, nodeInSet } from './topology.js';

const COMPANIONS: Array<[string, string]> = [
  ['tailscale.com/cap/drive', 'tailscale.com/cap/drive-sharer'],
  ['tailscale.com/cap/relay', 'tailscale.com/cap/relay-target'],
];

/** Per self grant, the same-user nodes its sources match (cached per user). */
export class SelfRules {
  readonly #grants: SelfGrant[];
  readonly #topo: TopologyIndex;
  readonly #byUser = new Map<number, Array<{ members: NodeInfo[]; srcIPs: string[] } | null>>();

  /** Grants with the same source sets share one result per user. */
  readonly #sig: string[];

  constructor(grants: SelfGrant[], topo: TopologyIndex) {
    this.#grants = grants;
    this.#topo = topo;
    const ids = new Map<IPSet, number>();
    this.#sig = grants.map((g) => g.src.map((set) => ids.get(set) ?? (ids.set(set, ids.size), ids.size - 1)).join(','));
  }

  get empty(): boolean {
    return this.#grants.length === 0;
  }

  #forUser(uid: number): Array<{ members: NodeInfo[]; srcIPs: string[] } | null> {
    let l = this.#byUser.get(uid);
    if (l) return l;
    const same = this.#topo.byUser.get(uid) ?? [];
    const bySig = new Map<string, { members: NodeInfo[]; srcIPs: string[] } | null>();
    l = this.#grants.map((g, i) => {
      const sig = this.#sig[i]!;
      if (bySig.has(sig)) return bySig.get(sig)!;
      const members = same.filter((n) => g.src.some((s) => nodeInSet(n, s)));
      const r = members.length === 0 ? null : { members, srcIPs: nodesToSet(members).addressStrings() };
      bySig.set(sig, r);
      return r;
    });
    this.#byUser.set(uid, l);
    return l;
  }

  /** Self rules for node n, already reduced to n's own addresses. */
  rulesFor(n: NodeInfo): FilterRule[] {
    if (this.empty || n.tagged || n.node.userId === null) return [];
    const out: FilterRule[] = [];
    this.#forUser(n.node.userId).forEach((r, i) => {
      if (!r) return;
      const g = this.#grants[i]!;
      for (const cap of g.ip) {
        const DstPorts: NetPortRange[] = [];
        for (const p of cap.ports) for (const a of n.addrs) DstPorts.push({ IP: formatAddr(a.family, a.value), Ports: { ...p } });
        const rule: FilterRule = { SrcIPs: r.srcIPs, DstPorts };
        if (cap.proto) rule.IPProto = cap.proto;
        out.push(rule);
      }
      if (g.app) {
        const Dsts = n.addrs.map((a) => formatPrefix({ family: a.family, value: a.value, bits: a.family === 4 ? 32 : 128 }));
        out.push({ SrcIPs: r.srcIPs, CapGrant: [{ Dsts, CapMap: { ...g.app } }] });
        if (r.members.includes(n)) {
          const same = this.#topo.byUser.get(n.node.userId!) ?? [];
          const sameIPs = same.flatMap((m) => m.addrs.map((a) => formatAddr(a.family, a.value)));
          for (const [cap, companion] of COMPANIONS) {
            if (cap in g.app) out.push({ SrcIPs: sameIPs, CapGrant: [{ Dsts, CapMap: { [companion]: null as unknown as unknown[] } }] });
          }
        }
      }
    });
    return out;
  }

  /** Same-user nodes n may exchange traffic with through self rules. */
  peersOf(n: NodeInfo, out: { add(index: number): void }): void {
    if (this.empty || n.tagged || n.node.userId === null) return;
    const same = this.#topo.byUser.get(n.node.userId) ?? [];
    for (const r of this.#forUser(n.node.userId)) {
      if (!r) continue;
      if (r.members.includes(n)) for (const m of same) out.add(m.index);
      else for (const m of r.members) out.add(m.index);
    }
  }
}

/** Via grant rules on a via router: one compiled rule per grant and ip entry. */
export function viaRulesFor(n: NodeInfo, grants: ViaGrant[]): CompiledRule[] {
  if (!n.tagged || grants.length === 0) return [];
  const out: CompiledRule[] = [];
  for (const g of grants) {
    if (!g.via.some((t) => n.node.tags.includes(t))) continue;
    const prefixes: string[] = [];
    const dstParts: IPSet[] = [];
    for (const set of g.dsts) {
      for (const p of set.prefixes()) {
        const ps = new IPSetBuilder().addPrefix(p).build();
        if (n.subnetRoutes.some((r) => ps.overlapsPrefix(r))) {
          prefixes.push(p.bits === (p.family === 4 ? 32 : 128) ? formatAddr(p.family, p.value) : formatPrefix(p));
          dstParts.push(ps);
        }
      }
    }
    if (g.internet && n.isExit) {
      prefixes.push(...INTERNET_RANGE_STRINGS);
      dstParts.push(INTERNET);
    }
    if (prefixes.length === 0) continue;
    const b = new IPSetBuilder();
    for (const s of dstParts) b.addSet(s);
    const dst = b.build();
    for (const cap of g.ip) {
      const DstPorts: NetPortRange[] = [];
      for (const ip of prefixes) for (const p of cap.ports) DstPorts.push({ IP: ip, Ports: { ...p } });
      const rule: FilterRule = { SrcIPs: g.srcIPs, DstPorts };
      if (cap.proto) rule.IPProto = cap.proto;
      out.push({ rule, src: g.src, dst, entries: DstPorts.map(() => dst), capDsts: [] });
    }
  }
  return out;
}
