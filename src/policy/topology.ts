// Owns the topology the policy is compiled against (plain data: users and nodes) and its
// indexes: by id, by tag, by user, by address (sorted, for range queries), routers and
// exit nodes, and HA primaries. Also the user-token match rules (email first, then name
// without trailing @).

import { type Addr, type Prefix, parseAddr, parsePrefix, prefixLast } from './ip.js';
import { type IPSet, IPSetBuilder } from './ipset.js';

export interface PolicyUser {
  id: number;
  name: string;
  email: string;
}

export interface PolicyNode {
  id: number;
  /** Given name. */
  name: string;
  userId: number | null;
  tags: string[];
  ipv4: string | null;
  ipv6: string | null;
  announcedRoutes: string[];
  approvedRoutes: string[];
  /**
   * Subnet routes this node is the elected HA primary for (the server's election, which knows
   * who is online). When no node in the topology has it, the lowest id serving a prefix wins.
   */
  primaryRoutes?: string[];
  /** False when the node is known to be offline (via routers prefer online ones). */
  online?: boolean;
}

export interface Topology {
  users: PolicyUser[];
  nodes: PolicyNode[];
}

/** A node with its parsed addresses and effective routes. */
export interface NodeInfo {
  node: PolicyNode;
  /** Position in topology order. */
  index: number;
  addrs: Addr[];
  tagged: boolean;
  /** Announced and approved, not exit routes. */
  subnetRoutes: Prefix[];
  subnetRouteTexts: string[];
  /** subnetRoutes as inclusive ranges, for fast overlap checks. */
  subnetRanges: Array<{ family: 4 | 6; first: bigint; last: bigint }>;
  /** Announced and approved exit route (either family approves both). */
  isExit: boolean;
  exitRoutes: string[];
}

const EXIT = new Set(['0.0.0.0/0', '::/0']);

interface AddrEntry {
  value: bigint;
  info: NodeInfo;
}

export class TopologyIndex {
  readonly users: PolicyUser[];
  readonly infos: NodeInfo[];
  readonly byId = new Map<number, NodeInfo>();
  readonly byTag = new Map<string, NodeInfo[]>();
  /** Untagged nodes per owning user. */
  readonly byUser = new Map<number, NodeInfo[]>();
  readonly untagged: NodeInfo[] = [];
  readonly tagged: NodeInfo[] = [];
  readonly routers: NodeInfo[] = [];
  readonly exitNodes: NodeInfo[] = [];
  /** Approved subnet routes in node order, exact duplicates removed. */
  readonly approvedSubnetRoutes: string[] = [];
  readonly #v4: AddrEntry[] = [];
  readonly #v6: AddrEntry[] = [];
  /** Primaries come from PolicyNode.primaryRoutes (a server election) rather than lowest id. */
  readonly elected: boolean;
  readonly #userByEmail = new Map<string, PolicyUser[]>();
  readonly #userByName = new Map<string, PolicyUser[]>();
  #routeSpace: IPSet | undefined;

  constructor(topo: Topology) {
    this.users = topo.users;
    for (const u of topo.users) {
      if (u.email) push(this.#userByEmail, u.email.toLowerCase(), u);
      push(this.#userByName, u.name.toLowerCase(), u);
    }
    this.elected = topo.nodes.some((n) => n.primaryRoutes !== undefined);
    const seenRoutes = new Set<string>();
    this.infos = topo.nodes.map((node, index) => {
      const addrs: Addr[] = [];
      for (const t of [node.ipv4, node.ipv6]) {
        const a = t ? parseAddr(t) : null;
        if (a) addrs.push(a);
      }
      const announced = new Set(node.announcedRoutes);
      const effective = node.approvedRoutes.filter((r) => announced.has(r));
      const exitApproved = node.approvedRoutes.some((r) => EXIT.has(r));
      const exitRoutes = exitApproved ? node.announcedRoutes.filter((r) => EXIT.has(r)) : [];
      const subnetRouteTexts = effective.filter((r) => !EXIT.has(r));
      const subnetRoutes = subnetRouteTexts.map((r) => parsePrefix(r)).filter((p): p is Prefix => p !== null);
      const info: NodeInfo = {
        node,
        index,
        addrs,
        tagged: node.tags.length > 0,
        subnetRoutes,
        subnetRanges: subnetRoutes.map((p) => ({ family: p.family, first: p.value, last: prefixLast(p) })),
        subnetRouteTexts,
        isExit: exitRoutes.length > 0,
        exitRoutes,
      };
      for (const r of subnetRouteTexts) {
        if (!seenRoutes.has(r)) {
          seenRoutes.add(r);
          this.approvedSubnetRoutes.push(r);
        }
      }
      return info;
    });
    for (const info of this.infos) {
      this.byId.set(info.node.id, info);
      if (info.tagged) {
        this.tagged.push(info);
        for (const t of new Set(info.node.tags)) push(this.byTag, t, info);
      } else {
        this.untagged.push(info);
        if (info.node.userId !== null) push(this.byUser, info.node.userId, info);
      }
      if (info.subnetRoutes.length > 0) this.routers.push(info);
      if (info.isExit) this.exitNodes.push(info);
      for (const a of info.addrs) (a.family === 4 ? this.#v4 : this.#v6).push({ value: a.value, info });
    }
    const cmp = (x: AddrEntry, y: AddrEntry) => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0);
    this.#v4.sort(cmp);
    this.#v6.sort(cmp);
  }

  /** Users a token names (HS: email first, then name after dropping a trailing `@`). */
  usersFor(token: string): PolicyUser[] {
    const t = token.trim().toLowerCase();
    const byEmail = this.#userByEmail.get(t);
    if (byEmail && byEmail.length > 0) return byEmail;
    const name = t.endsWith('@') ? t.slice(0, -1) : t;
    return this.#userByName.get(name) ?? this.#userByName.get(t) ?? [];
  }

  /** HA: whether n is the primary for one of its subnet routes (elected, else lowest id). */
  isPrimary(n: NodeInfo, route: string): boolean {
    if (this.elected) return n.node.primaryRoutes?.includes(route) ?? false;
    for (const r of this.routers) {
      if (r.node.id < n.node.id && r.subnetRouteTexts.includes(route)) return false;
    }
    return true;
  }

  /** Nodes with an address in the set (binary search per range). */
  nodesWithAddrIn(set: IPSet, out: Set<NodeInfo>): void {
    scan(this.#v4, set.v4, out);
    scan(this.#v6, set.v6, out);
  }

  /** Nodes with an address in the set, or an approved subnet route overlapping it. */
  nodesTouching(set: IPSet, out: Set<NodeInfo>): void {
    this.nodesWithAddrIn(set, out);
    if (this.routers.length === 0) return;
    this.#routeSpace ??= routeSpaceOf(this.routers);
    if (!set.overlapsSet(this.#routeSpace)) return;
    for (const r of this.routers) {
      if (out.has(r)) continue;
      if (r.subnetRanges.some((p) => set.overlapsRange(p.family, p.first, p.last))) out.add(r);
    }
  }
}

function routeSpaceOf(routers: NodeInfo[]): IPSet {
  const b = new IPSetBuilder();
  for (const r of routers) for (const p of r.subnetRoutes) b.addPrefix(p);
  return b.build();
}

function scan(entries: AddrEntry[], ranges: readonly (readonly [bigint, bigint])[], out: Set<NodeInfo>): void {
  if (entries.length === 0) return;
  for (const [first, last] of ranges) {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid]!.value < first) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < entries.length && entries[i]!.value <= last; i++) out.add(entries[i]!.info);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

export function nodeInSet(info: NodeInfo, set: IPSet): boolean {
  return info.addrs.some((a) => set.containsAddr(a));
}

export function nodeTouchesSet(info: NodeInfo, set: IPSet): boolean {
  return nodeInSet(info, set) || info.subnetRanges.some((p) => set.overlapsRange(p.family, p.first, p.last));
}
