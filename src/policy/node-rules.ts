// Owns the rules that exist per user rather than globally: autogroup:self (§3.9, cached per
// user), with the same-user peers they make visible. Via grants live in via.ts.

import type { FilterRule, NetPortRange } from '../tailcfg/types.js';
import { formatAddr, formatPrefix } from './ip.js';
import type { IPSet } from './ipset.js';
import type { SelfGrant } from './grants.js';
import { nodesToSet } from './resolve.js';
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
