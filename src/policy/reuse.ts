// Owns carrying per-node results from a previous compile into a new one when the policy is
// the same and only some nodes changed: a node keeps its cached packet filter unless a rule
// that reaches it (before or after) changed, its user's autogroup:self set changed, it is a
// via router, or the node itself changed.

import type { FilterRule } from '../tailcfg/types.js';
import type { CompiledRule, MergeKeys } from './grants.js';
import type { ReductionIndex } from './reduce.js';
import type { PolicyNode, TopologyIndex } from './topology.js';

function sameNode(a: PolicyNode, b: PolicyNode): boolean {
  return (
    a.name === b.name &&
    a.userId === b.userId &&
    a.ipv4 === b.ipv4 &&
    a.ipv6 === b.ipv6 &&
    a.tags.join('\n') === b.tags.join('\n') &&
    a.announcedRoutes.join('\n') === b.announcedRoutes.join('\n') &&
    a.approvedRoutes.join('\n') === b.approvedRoutes.join('\n')
  );
}

/** A rule's identity across compiles that share one MergeKeys. */
function ruleKey(r: CompiledRule, keys: MergeKeys): string {
  const x = r.rule;
  const dst = (x.DstPorts ?? []).map((d) => `${d.IP}:${d.Ports.First}-${d.Ports.Last}`).join(',');
  return `${keys.of(x.SrcIPs)}|${(x.IPProto ?? []).join(',')}|${dst}|${x.CapGrant ? JSON.stringify(x.CapGrant) : ''}`;
}

export interface ReuseInput {
  topology: TopologyIndex;
  reduction: ReductionIndex;
  filters: ReadonlyMap<number, FilterRule[]>;
  hasVia: boolean;
  keys: MergeKeys;
}

/**
 * Cached filters of the previous compile that are still valid for the new one, by node id.
 * Returns an empty map when too much changed to tell.
 */
export function reusableFilters(prev: ReuseInput, next: Omit<ReuseInput, 'filters'>): Map<number, FilterRule[]> {
  const out = new Map<number, FilterRule[]>();
  if (next.hasVia || prev.hasVia) return out;
  if (prev.keys !== next.keys) return out;
  const oldRules = prev.reduction.rules;
  const newRules = next.reduction.rules;
  const affected = new Set<number>();
  const users = new Set<number>();
  const mark = (n: PolicyNode) => {
    affected.add(n.id);
    if (n.userId !== null) users.add(n.userId);
  };
  for (const info of next.topology.infos) {
    const old = prev.topology.byId.get(info.node.id);
    if (!old || !sameNode(old.node, info.node)) {
      mark(info.node);
      if (old) mark(old.node);
    }
  }
  for (const info of prev.topology.infos) if (!next.topology.byId.has(info.node.id)) mark(info.node);
  // rules match by content; a rule that appeared, vanished or changed affects every node it reaches
  const oldByKey = new Map<string, number[]>();
  oldRules.forEach((r, i) => {
    const k = ruleKey(r, prev.keys);
    const l = oldByKey.get(k);
    if (l) l.push(i);
    else oldByKey.set(k, [i]);
  });
  const touch = (reached: ReadonlySet<{ node: PolicyNode }> | 'all'): boolean => {
    if (reached === 'all') return false;
    for (const n of reached) affected.add(n.node.id);
    return true;
  };
  for (let i = 0; i < newRules.length; i++) {
    const l = oldByKey.get(ruleKey(newRules[i]!, next.keys));
    if (l && l.length > 0) l.shift();
    else if (!touch(next.reduction.nodesOfRule(i))) return out;
  }
  for (const l of oldByKey.values()) for (const i of l) if (!touch(prev.reduction.nodesOfRule(i))) return out;
  // autogroup:self results depend on every device of the user
  for (const u of users) for (const n of next.topology.byUser.get(u) ?? []) affected.add(n.node.id);
  for (const [id, rules] of prev.filters) if (!affected.has(id) && next.topology.byId.has(id)) out.set(id, rules);
  return out;
}
