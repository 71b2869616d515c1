// Owns the `switchboard policy compile` command's core: policy text + topology JSON → the
// per-node result object (packet filter, SSH policy, cap map, peers, peer AllowedIPs).
// Topology JSON: {"users":[{"name","email"}],"nodes":[{"name","user"?,"tags","ipv4","ipv6",
// "announced_routes","approved_routes"}]}; a node map keyed by name (capture form) also works.

import { compilePolicy } from './compiled.js';
import { PolicyError } from './errors.js';
import type { Policy } from './model.js';
import { parsePolicy } from './parse.js';
import type { PolicyNode, PolicyUser, Topology } from './topology.js';

type Json = Record<string, unknown>;

function strList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Convert topology JSON into users and nodes (ids assigned in order from 1). */
export function topologyFromJson(json: unknown): Topology {
  if (typeof json !== 'object' || json === null) throw new PolicyError('ERR_POLICY_TOPOLOGY', 'topology: expected an object');
  const j = json as Json;
  const users: PolicyUser[] = (Array.isArray(j.users) ? (j.users as Json[]) : []).map((u, i) => ({
    id: typeof u.id === 'number' ? u.id : i + 1,
    name: String(u.name ?? ''),
    email: String(u.email ?? ''),
  }));
  const rawNodes: Json[] = Array.isArray(j.nodes)
    ? (j.nodes as Json[])
    : typeof j.nodes === 'object' && j.nodes !== null
      ? Object.entries(j.nodes as Record<string, Json>).map(([name, n]) => ({ name, ...n }))
      : [];
  const nodes: PolicyNode[] = rawNodes.map((n, i) => {
    const name = String(n.name ?? n.hostname ?? `node${i + 1}`);
    let userId: number | null = null;
    if (typeof n.user === 'string' && n.user !== '') {
      const u = users.find((x) => x.name === n.user || x.email === n.user);
      if (!u) throw new PolicyError('ERR_POLICY_TOPOLOGY', `topology: node ${JSON.stringify(name)} names unknown user ${JSON.stringify(n.user)}`);
      userId = u.id;
    }
    return {
      id: typeof n.id === 'number' ? n.id : i + 1,
      name,
      userId,
      tags: strList(n.tags),
      ipv4: typeof n.ipv4 === 'string' ? n.ipv4 : null,
      ipv6: typeof n.ipv6 === 'string' ? n.ipv6 : null,
      announcedRoutes: strList(n.announced_routes ?? n.routable_ips),
      approvedRoutes: strList(n.approved_routes),
    };
  });
  return { users, nodes };
}

/** Compile a policy for a topology and return the per-node view keyed by node name. */
export function compileForTopology(policyText: string, topologyJson: unknown): object {
  const policy: Policy | null = policyText.trim() === '' ? null : parsePolicy(policyText);
  let topology = topologyFromJson(topologyJson);
  let compiled = compilePolicy(policy, topology);
  // As the server does on policy load: autoApprovers add to each node's approved routes.
  let changed = false;
  const nodesAfter = topology.nodes.map((n) => {
    const extra = compiled.autoApprove(n).routes.filter((r) => !n.approvedRoutes.includes(r));
    if (extra.length === 0) return n;
    changed = true;
    return { ...n, approvedRoutes: [...n.approvedRoutes, ...extra] };
  });
  if (changed) {
    topology = { users: topology.users, nodes: nodesAfter };
    compiled = compilePolicy(policy, topology);
  }
  const nameOf = new Map(topology.nodes.map((n) => [n.id, n.name]));
  const nodes: Record<string, object> = {};
  for (const n of topology.nodes) {
    const peers = compiled.peersOf(n.id);
    const peerAllowedIPs: Record<string, string[]> = {};
    for (const p of peers) peerAllowedIPs[nameOf.get(p)!] = compiled.peerAllowedIPs(n.id, p);
    nodes[n.name] = {
      packetFilter: compiled.packetFilterFor(n.id),
      sshPolicy: compiled.sshPolicyFor(n.id) ?? { rules: [] },
      capMap: compiled.capMapFor(n.id),
      peers: peers.map((p) => nameOf.get(p)!),
      peerAllowedIPs,
    };
  }
  return { nodes };
}
