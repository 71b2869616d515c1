// Owns reading headscale's golden capture format (testdata/*_results/*.hujson, schema 1)
// into a compact fixture, and comparing our compiled output with it order-insensitively.
// Used by the conformance test; the fixtures under testdata/ were derived with it.

import { topologyFromJson } from './compile-command.js';
import type { Topology } from './topology.js';
import { compilePolicy } from './compiled.js';
import { PolicyError } from './errors.js';
import { parseHuJSON } from './hujson.js';
import { parsePolicy } from './parse.js';

export interface GoldenFixture {
  id: string;
  policy: string;
  topology: { users: unknown[]; nodes: unknown[] };
  /** The captured tailnet's domains (from its owner's login, e.g. odin@example.com). */
  tailnetDomains?: string[];
  /** Expected error message (a substring of ours), when SaaS rejected the policy. */
  error?: string;
  nodes?: Record<string, { filter: unknown[]; peers: Record<string, string[]>; ssh: unknown[] | null }>;
}

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Turn one capture file into a fixture (null when the file is not usable). */
export function fixtureFromCapture(text: string): GoldenFixture | null {
  const d = parseHuJSON(text).value as J;
  const input = d.input as J;
  const policy = typeof input.full_policy === 'string' ? input.full_policy : JSON.stringify(input.full_policy ?? {});
  const topo = d.topology as J | undefined;
  if (!topo) return null;
  // Node ids are not captured; HA primaries win by lowest id, so nodes that were primary
  // for a route in any capture come first.
  const primaries = new Set<string>();
  for (const c of Object.values<J>(d.captures ?? {})) {
    for (const p of c.netmap?.Peers ?? []) if ((p.PrimaryRoutes ?? []).length > 0) primaries.add(String(p.Name).split('.')[0] ?? '');
  }
  // Better: SaaS elects the earliest-created router, so order by the captured creation time
  // when every node's is known.
  const created = new Map<string, string>();
  for (const c of Object.values<J>(d.captures ?? {})) {
    for (const p of [c.netmap?.SelfNode, ...(c.netmap?.Peers ?? [])]) {
      if (p && typeof p.Created === 'string') created.set(String(p.Name).split('.')[0] ?? '', sortableTime(p.Created));
    }
  }
  const all = Object.keys(topo.nodes ?? {});
  const byCreated = all.every((n) => created.has(n));
  const names = all.sort((a, b) => (byCreated ? cmp(created.get(a)!, created.get(b)!) : Number(primaries.has(b)) - Number(primaries.has(a))) || cmp(a, b));
  const topology = {
    users: topo.users ?? [],
    nodes: names.map((name) => {
      const n = topo.nodes[name];
      return { name, ...(n.user ? { user: n.user } : {}), tags: n.tags ?? [], ipv4: n.ipv4, ipv6: n.ipv6, announced_routes: n.routable_ips ?? [], approved_routes: n.approved_routes ?? [] };
    }),
  };
  const owner = typeof d.tailnet === 'string' ? d.tailnet : '';
  const base = { id: String(d.test_id), policy, topology, ...(owner.includes('@') ? { tailnetDomains: [owner.slice(owner.lastIndexOf('@') + 1)] } : {}) };
  if (d.error || input.api_response_code !== 200) return { ...base, error: String(input.api_response_body?.message ?? '') };
  const nodes: NonNullable<GoldenFixture['nodes']> = {};
  for (const [name, c] of Object.entries<J>(d.captures ?? {})) {
    const nm = c.netmap;
    if (!nm) continue;
    const peers: Record<string, string[]> = {};
    for (const p of nm.Peers ?? []) peers[String(p.Name).split('.')[0]!] = p.AllowedIPs ?? [];
    nodes[name] = { filter: nm.PacketFilterRules ?? [], peers, ssh: nm.SSHPolicy?.rules ?? null };
  }
  return { ...base, nodes };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** RFC 3339 with the fraction padded to nanoseconds, so strings sort as times. */
function sortableTime(t: string): string {
  return t.replace(/(\.\d+)?Z$/, (_m, f: string | undefined) => `${(f ?? '.').padEnd(10, '0')}Z`);
}

function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon).map((x) => JSON.stringify(x)).sort();
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      let x = (v as J)[k];
      if (k === 'holdAndDelegate' && typeof x === 'string') x = x.replace(/^[a-z]+:\/\/[^/]+/, '');
      if ((k === 'SrcIPs' || k === 'Dsts') && Array.isArray(x)) x = [...x].sort();
      o[k] = canon(x);
    }
    return o;
  }
  return v;
}

/** Rules compare as a multiset; within a rule SrcIPs order is ignored. */
export function sameRules(a: unknown[], b: unknown[]): boolean {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

export interface Mismatch {
  node: string;
  what: 'filter' | 'peers' | 'allowedIPs' | 'ssh' | 'error';
  got: unknown;
  want: unknown;
}

/** Compile a fixture and list every difference from the capture. */
export function checkFixture(f: GoldenFixture, aspects: ReadonlySet<Mismatch['what']> = new Set(['filter', 'peers', 'allowedIPs', 'ssh', 'error'])): Mismatch[] {
  const out: Mismatch[] = [];
  let compiled;
  let topology: Topology = topologyFromJson(f.topology);
  try {
    const policy = parsePolicy(f.policy);
    const domains = f.tailnetDomains ? { tailnetDomains: f.tailnetDomains } : {};
    const first = compilePolicy(policy, topology, domains);
    topology = { users: topology.users, nodes: topology.nodes.map((n) => ({ ...n, approvedRoutes: [...new Set([...n.approvedRoutes, ...first.autoApprove(n).routes])] })) };
    compiled = compilePolicy(policy, topology, { serverUrl: 'https://x', ...domains });
    const failures = compiled.runTests();
    if (failures.length > 0) throw new PolicyError('ERR_POLICY_TESTS_FAILED', `test(s) failed\n${failures.map((x) => x.message).join('\n')}`);
  } catch (e) {
    if (f.error !== undefined && e instanceof PolicyError && e.message.includes(f.error)) return [];
    return [{ node: '*', what: 'error', got: (e as Error).message, want: f.error ?? 'success' }];
  }
  if (f.error !== undefined) return aspects.has('error') ? [{ node: '*', what: 'error', got: 'success', want: f.error }] : [];
  const byName = new Map(topology.nodes.map((n) => [n.name, n]));
  for (const [name, want] of Object.entries(f.nodes ?? {})) {
    const n = byName.get(name);
    if (!n) continue;
    const filter = compiled.packetFilterFor(n.id);
    if (aspects.has('filter') && !sameRules(filter, want.filter)) out.push({ node: name, what: 'filter', got: filter, want: want.filter });
    const peers = compiled.peersOf(n.id).map((id) => topology.nodes.find((x) => x.id === id)!.name);
    const wantPeers = Object.keys(want.peers).sort();
    if (aspects.has('peers') && JSON.stringify([...peers].sort()) !== JSON.stringify(wantPeers)) out.push({ node: name, what: 'peers', got: peers, want: wantPeers });
    if (aspects.has('allowedIPs')) {
      for (const p of peers) {
        if (!(p in want.peers)) continue;
        const got = compiled.peerAllowedIPs(n.id, byName.get(p)!.id);
        if (JSON.stringify([...got].sort()) !== JSON.stringify([...want.peers[p]!].sort())) out.push({ node: `${name}->${p}`, what: 'allowedIPs', got, want: want.peers[p] });
      }
    }
    if (aspects.has('ssh') && want.ssh !== null) {
      const got = compiled.sshPolicyFor(n.id)?.rules ?? [];
      if (JSON.stringify(canon(got)) !== JSON.stringify(canon(want.ssh))) out.push({ node: name, what: 'ssh', got, want: want.ssh });
    }
  }
  return out;
}
