// Owns peer visibility (§4.2) and the routes a viewer sees in a peer's AllowedIPs (§4.3).
// Matchers are the unreduced rules; node → rules indexes (as source, as destination) are
// built once, so a node's peers come from its own rules rather than an all-pairs scan.

import type { CompiledRule } from './grants.js';
import { IPSet } from './ipset.js';

const V4_ALL = IPSet.of('0.0.0.0/0');
const V6_ALL = IPSet.of('::/0');
import { INTERNET, TAILSCALE_SPACE } from './resolve.js';
import type { NodeInfo, TopologyIndex } from './topology.js';

/** Collects node indices without duplicates: a stamp per node instead of a Set. */
export class NodeCollector {
  readonly #marks: Uint32Array;
  #stamp = 0;
  list: number[] = [];

  constructor(size: number) {
    this.#marks = new Uint32Array(size);
  }

  reset(): void {
    this.#stamp++;
    if (this.#stamp === 0xffffffff) {
      this.#marks.fill(0);
      this.#stamp = 1;
    }
    this.list = [];
  }

  add(index: number): void {
    if (this.#marks[index] === this.#stamp) return;
    this.#marks[index] = this.#stamp;
    this.list.push(index);
  }

  addAll(indices: Int32Array): void {
    const marks = this.#marks;
    const stamp = this.#stamp;
    for (let i = 0; i < indices.length; i++) {
      const x = indices[i]!;
      if (marks[x] !== stamp) {
        marks[x] = stamp;
        this.list.push(x);
      }
    }
  }
}

type NodeList = Int32Array | 'all';

export class PeerIndex {
  readonly #rules: CompiledRule[];
  readonly #topo: TopologyIndex;
  readonly #srcNodes: NodeList[];
  readonly #dstNodes: NodeList[];
  readonly #asSrc = new Map<NodeInfo, number[]>();
  readonly #asDst = new Map<NodeInfo, number[]>();
  readonly #allSrc: number[] = [];
  readonly #allDst: number[] = [];

  constructor(rules: CompiledRule[], topo: TopologyIndex) {
    this.#rules = rules;
    this.#topo = topo;
    // rules often share a resolved set (same group, tag or autogroup): resolve nodes once per set
    const cache = new Map<IPSet, NodeList>();
    const nodesOf = (set: IPSet, exits: boolean): NodeList => {
      let l = cache.get(set);
      if (l) return l;
      if (set.coversSet(TAILSCALE_SPACE)) l = 'all';
      else {
        const s = new Set<NodeInfo>();
        topo.nodesTouching(set, s);
        if (exits && isInternet(set)) for (const e of topo.exitNodes) s.add(e);
        l = Int32Array.from([...s].map((n) => n.index));
      }
      cache.set(set, l);
      return l;
    };
    const index = (lists: NodeList[], all: number[], by: Map<NodeInfo, number[]>) =>
      lists.forEach((l, i) => {
        if (l === 'all') all.push(i);
        else for (const x of l) push(by, topo.infos[x]!, i);
      });
    this.#srcNodes = rules.map((r) => nodesOf(r.src, false));
    cache.clear();
    this.#dstNodes = rules.map((r) => (r.entries.includes(null) ? 'all' : nodesOf(r.dst, true)));
    index(this.#srcNodes, this.#allSrc, this.#asSrc);
    index(this.#dstNodes, this.#allDst, this.#asDst);
  }

  /** Adds the nodes n may reach or be reached by through the global rules. Returns true for "everyone". */
  collect(n: NodeInfo, out: NodeCollector): boolean {
    const seen = new Set<Int32Array>();
    const walk = (ruleIdx: number[], lists: NodeList[]): boolean => {
      for (const i of ruleIdx) {
        const l = lists[i]!;
        if (l === 'all') return true;
        if (seen.has(l)) continue;
        seen.add(l);
        out.addAll(l);
      }
      return false;
    };
    return (
      walk(this.#allSrc, this.#dstNodes) ||
      walk(this.#asSrc.get(n) ?? [], this.#dstNodes) ||
      walk(this.#allDst, this.#srcNodes) ||
      walk(this.#asDst.get(n) ?? [], this.#srcNodes)
    );
  }

  /** Rules whose source touches n, and rules whose destination touches n. */
  rulesOf(n: NodeInfo): { asSrc: CompiledRule[]; asDst: CompiledRule[] } {
    return {
      asSrc: [...this.#allSrc, ...(this.#asSrc.get(n) ?? [])].map((i) => this.#rules[i]!),
      asDst: [...this.#allDst, ...(this.#asDst.get(n) ?? [])].map((i) => this.#rules[i]!),
    };
  }

  get topology(): TopologyIndex {
    return this.#topo;
  }
}

/** "The internet" for exit nodes: contains a /0 or all of autogroup:internet. */
export function isInternet(dst: IPSet): boolean {
  return dst.coversSet(V4_ALL) || dst.coversSet(V6_ALL) || dst.coversSet(INTERNET);
}

/** Whether a matcher lets traffic flow for route R between viewer and the route (§4.3). */
export function ruleCarriesRoute(viewerIsSrc: boolean, r: CompiledRule, route: IPSet): boolean {
  return viewerIsSrc ? r.dst.overlapsSet(route) || r.entries.includes(null) : r.src.overlapsSet(route);
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
