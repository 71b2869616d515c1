// Owns autoApprovers (§6.1): which announced routes a node may have approved by policy.
// Subnet routes need a `routes` key that equals or contains them; exit routes are approved
// only through `exitNode`, and approving one family approves both.

import { parsePrefix } from './ip.js';
import type { Alias, Policy } from './model.js';
import type { Resolver } from './resolve.js';
import type { PolicyNode } from './topology.js';

const EXIT = new Set(['0.0.0.0/0', '::/0']);

/** Does this approver name the node? Tags are identities: a tagged node is not its user's. */
export function approverMatches(a: Alias, node: PolicyNode, pol: Policy, res: Resolver): boolean {
  const tagged = node.tags.length > 0;
  switch (a.kind) {
    case 'tag':
      return node.tags.includes(a.text);
    case 'user':
      return !tagged && node.userId !== null && res.topology.usersFor(a.text).some((u) => u.id === node.userId);
    case 'group':
      return !tagged && node.userId !== null && (pol.groups.get(a.text) ?? []).some((m) => res.topology.usersFor(m).some((u) => u.id === node.userId));
    default:
      return false;
  }
}

export function autoApproveRoutes(pol: Policy, res: Resolver, node: PolicyNode): string[] {
  const out: string[] = [];
  const exitOk = pol.autoApprovers.exitNode.some((a) => approverMatches(a, node, pol, res));
  for (const route of node.announcedRoutes) {
    if (EXIT.has(route)) {
      if (exitOk) out.push(route);
      continue;
    }
    const p = parsePrefix(route);
    if (!p) continue;
    const ok = pol.autoApprovers.routes.some(
      (r) =>
        r.prefix.family === p.family &&
        r.prefix.bits <= p.bits &&
        r.prefix.bits < (p.family === 4 ? 33 : 129) &&
        (p.value >> BigInt((p.family === 4 ? 32 : 128) - r.prefix.bits)) === (r.prefix.value >> BigInt((p.family === 4 ? 32 : 128) - r.prefix.bits)) &&
        r.approvers.some((a) => approverMatches(a, node, pol, res)),
    );
    if (ok) out.push(route);
  }
  return out;
}
