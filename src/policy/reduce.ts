// Owns per-node reduction of the global rules (§3.8) through an index: every DstPorts entry
// and CapGrant rule is mapped once to the nodes it covers (by address, approved subnet
// route, or exit node), so a node's filter is built from its own entries only.

import type { FilterRule } from '../tailcfg/types.js';
import { formatPrefix, parseIPOrPrefix } from './ip.js';
import type { IPSet } from './ipset.js';
import type { CompiledRule } from './grants.js';
import { INTERNET } from './resolve.js';
import type { NodeInfo, TopologyIndex } from './topology.js';

export class ReductionIndex {
  readonly #rules: CompiledRule[];
  /** node → rule index → entry indices. */
  readonly #entries = new Map<NodeInfo, Map<number, number[]>>();
  /** rule index → entry indices that are "*" (every node). */
  readonly #wildcard = new Map<number, number[]>();
  /** node → CapGrant rule indices that touch it. */
  readonly #capRules = new Map<NodeInfo, number[]>();
  /** rule index → the nodes it reaches ('all' for a "*" entry). */
  readonly #ruleNodes: Array<Set<NodeInfo> | 'all'> = [];

  constructor(rules: CompiledRule[], topo: TopologyIndex) {
    this.#rules = rules;
    const setCache = new Map<IPSet, Set<NodeInfo>>();
    const nodesFor = (set: IPSet): Set<NodeInfo> => {
      let s = setCache.get(set);
      if (s) return s;
      s = new Set();
      topo.nodesTouching(set, s);
      if (topo.exitNodes.length > 0 && INTERNET.coversSet(set)) for (const e of topo.exitNodes) s.add(e);
      setCache.set(set, s);
      return s;
    };
    rules.forEach((r, ri) => {
      const reached = new Set<NodeInfo>();
      this.#ruleNodes.push(reached);
      if (r.rule.CapGrant) {
        for (const n of nodesFor(r.dst)) {
          push(this.#capRules, n, ri);
          reached.add(n);
        }
        return;
      }
      r.entries.forEach((set, ei) => {
        if (set === null) {
          const l = this.#wildcard.get(ri) ?? [];
          l.push(ei);
          this.#wildcard.set(ri, l);
          this.#ruleNodes[ri] = 'all';
          return;
        }
        for (const n of nodesFor(set)) {
          reached.add(n);
          let m = this.#entries.get(n);
          if (!m) this.#entries.set(n, (m = new Map()));
          const l = m.get(ri);
          if (l) l.push(ei);
          else m.set(ri, [ei]);
        }
      });
    });
  }

  /** The nodes rule `ri` reaches, or 'all'. */
  nodesOfRule(ri: number): ReadonlySet<NodeInfo> | 'all' {
    return this.#ruleNodes[ri] ?? 'all';
  }

  get rules(): readonly CompiledRule[] {
    return this.#rules;
  }

  /** The global rules reduced to node n, in rule order. */
  reduce(n: NodeInfo): FilterRule[] {
    const mine = this.#entries.get(n);
    const caps = this.#capRules.get(n) ?? [];
    const idx = new Set<number>([...this.#wildcard.keys(), ...(mine?.keys() ?? []), ...caps]);
    const order = [...idx].sort((a, b) => a - b);
    const out: FilterRule[] = [];
    for (const ri of order) {
      const r = this.#rules[ri]!;
      if (r.rule.CapGrant) {
        const rule = reduceCapRule(r, n);
        if (rule) out.push(rule);
        continue;
      }
      const eis = [...(this.#wildcard.get(ri) ?? []), ...(mine?.get(ri) ?? [])].sort((a, b) => a - b);
      const all = r.rule.DstPorts!;
      const rule: FilterRule = { SrcIPs: r.rule.SrcIPs, DstPorts: eis.length === all.length ? all : eis.map((i) => all[i]!) };
      if (r.rule.IPProto) rule.IPProto = r.rule.IPProto;
      out.push(rule);
    }
    return out;
  }
}

function reduceCapRule(r: CompiledRule, n: NodeInfo): FilterRule | null {
  const grants = [];
  for (const [gi, g] of r.rule.CapGrant!.entries()) {
    const kept = new Set<string>();
    g.Dsts.forEach((text, di) => {
      const set = r.capDsts[gi]?.[di];
      const p = parseIPOrPrefix(text);
      if (!set || !p) return;
      const single = p.bits === (p.family === 4 ? 32 : 128);
      for (const a of n.addrs) {
        if (set.containsAddr(a)) kept.add(single ? text : formatPrefix({ family: a.family, value: a.value, bits: a.family === 4 ? 32 : 128 }));
      }
      if (n.subnetRoutes.some((route) => set.overlapsPrefix(route))) kept.add(text);
    });
    if (kept.size === 0) continue;
    grants.push({ Dsts: [...kept].sort(), CapMap: g.CapMap });
  }
  return grants.length === 0 ? null : { SrcIPs: r.rule.SrcIPs, CapGrant: grants };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
