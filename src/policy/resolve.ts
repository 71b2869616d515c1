// Owns alias resolution: a selector (model.ts Alias) → the IPSet it stands for against a
// topology, memoised per alias text for one compile. Tags are identities: user, group and
// autogroup:member never match a tagged node. autogroup:self is resolved per user elsewhere.

import { PolicyError } from './errors.js';
import { IPSet, IPSetBuilder } from './ipset.js';
import type { Alias, Policy } from './model.js';
import type { NodeInfo, TopologyIndex } from './topology.js';

/** 100.64.0.0/10 minus 100.115.92.0/23 (ChromeOS VMs), plus fd7a:115c:a1e0::/48. */
export const TAILSCALE_SPACE = IPSet.of('100.64.0.0/10', 'fd7a:115c:a1e0::/48').subtract(IPSet.of('100.115.92.0/23'));

export const INTERNET = IPSet.of('0.0.0.0/0', '2000::/3').subtract(
  IPSet.of('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'),
);

export const ALL_IPS = IPSet.of('0.0.0.0/0', '::/0');

export class Resolver {
  readonly #pol: Policy;
  readonly #topo: TopologyIndex;
  readonly #memo = new Map<string, IPSet>();
  readonly #nodeMemo = new Map<string, NodeInfo[]>();

  constructor(pol: Policy, topo: TopologyIndex) {
    this.#pol = pol;
    this.#topo = topo;
  }

  get topology(): TopologyIndex {
    return this.#topo;
  }

  /** The addresses an alias stands for. autogroup:self resolves to nothing here. */
  resolve(a: Alias): IPSet {
    const key = a.kind === 'prefix' ? `p:${a.text}` : a.text;
    let s = this.#memo.get(key);
    if (s) return s;
    s = this.#compute(a);
    this.#memo.set(key, s);
    return s;
  }

  #compute(a: Alias): IPSet {
    switch (a.kind) {
      case 'prefix':
        return new IPSetBuilder().addPrefix(a.prefix).build();
      case 'wildcard':
        return TAILSCALE_SPACE;
      case 'host': {
        const p = this.#pol.hosts.get(a.text);
        return p ? new IPSetBuilder().addPrefix(p).build() : IPSet.EMPTY;
      }
      case 'autogroup':
        if (a.name === 'internet') return INTERNET;
        if (a.name === 'danger-all') return ALL_IPS;
        return nodesToSet(this.nodes(a));
      default:
        return nodesToSet(this.nodes(a));
    }
  }

  /** The nodes an identity alias (user, group, tag, member, tagged) names, in topology order. */
  nodes(a: Alias): NodeInfo[] {
    let l = this.#nodeMemo.get(a.text);
    if (l) return l;
    const t = this.#topo;
    switch (a.kind) {
      case 'user':
        l = this.#userNodes(a.text);
        break;
      case 'group': {
        const seen = new Set<NodeInfo>();
        for (const m of this.#pol.groups.get(a.text) ?? []) for (const n of this.#userNodes(m)) seen.add(n);
        l = [...seen].sort((x, y) => x.index - y.index);
        break;
      }
      case 'tag':
        l = t.byTag.get(a.text) ?? [];
        break;
      case 'autogroup':
        l = a.name === 'member' ? t.untagged.filter((n) => n.node.userId !== null) : a.name === 'tagged' ? t.tagged : [];
        break;
      default:
        l = [];
    }
    this.#nodeMemo.set(a.text, l);
    return l;
  }

  #userNodes(token: string): NodeInfo[] {
    const domain = /^user:\*@(.+)$/.exec(token.trim());
    if (domain) {
      // SaaS domain wildcard: every user whose email is in that domain
      const d = domain[1]!.toLowerCase();
      const out: NodeInfo[] = [];
      for (const u of this.#topo.users) if (u.email.toLowerCase().endsWith(`@${d}`)) out.push(...(this.#topo.byUser.get(u.id) ?? []));
      return out.sort((a, b) => a.index - b.index);
    }
    const users = this.#topo.usersFor(token);
    if (users.length > 1) throw new PolicyError('ERR_POLICY_TOPOLOGY', `multiple users found: token ${JSON.stringify(token)} found: ${users.map((u) => u.name).join(', ')}`);
    if (users.length === 0) return [];
    return this.#topo.byUser.get(users[0]!.id) ?? [];
  }

  /** Union of several aliases. */
  resolveAll(aliases: readonly Alias[]): IPSet {
    if (aliases.length === 1) return this.resolve(aliases[0]!);
    const b = new IPSetBuilder();
    for (const a of aliases) b.addSet(this.resolve(a));
    return b.build();
  }
}

export function nodesToSet(nodes: readonly NodeInfo[]): IPSet {
  const b = new IPSetBuilder();
  for (const n of nodes) for (const a of n.addrs) b.addAddr(a);
  return b.build();
}
