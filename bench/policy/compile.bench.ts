// Benchmark: a 500-rule policy (groups, tags, autogroup:self) over 10,000 nodes.
// Prints parse, full compile, per-node reduction (filters, SSH, peers) and the cost of
// changing one node's tags. Run: node --import tsx bench/policy/compile.bench.ts

import { performance } from 'node:perf_hooks';
import { compilePolicy } from '../../src/policy/compiled.js';
import { parsePolicy } from '../../src/policy/parse.js';
import type { PolicyNode, PolicyUser, Topology } from '../../src/policy/topology.js';

const NODES = 10_000;
const USERS = 1_000;
const TAGS = 50;
const GROUPS = 100;
const RULES = 500;

// deterministic PRNG
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (n: number) => Math.floor(rand() * n);

function buildTopology(): Topology {
  const users: PolicyUser[] = [];
  for (let i = 1; i <= USERS; i++) users.push({ id: i, name: `user${i}`, email: `user${i}@example.com` });
  // shuffled address slots so groups are not contiguous ranges
  const slots = Array.from({ length: NODES }, (_, i) => i + 1);
  for (let i = slots.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  const nodes: PolicyNode[] = [];
  for (let i = 0; i < NODES; i++) {
    const slot = slots[i]!;
    const tagged = i % 5 === 0; // 2,000 tagged nodes
    const router = tagged && i % 50 === 0;
    nodes.push({
      id: i + 1,
      name: `node${i + 1}`,
      userId: tagged ? null : (i % USERS) + 1,
      tags: tagged ? [`tag:t${i % TAGS}`, ...(i % 7 === 0 ? [`tag:t${(i + 1) % TAGS}`] : [])] : [],
      ipv4: `100.${64 + (slot >> 16)}.${(slot >> 8) & 255}.${slot & 255}`,
      ipv6: `fd7a:115c:a1e0::${slot.toString(16)}`,
      announcedRoutes: router ? [`10.${(i / 50) & 255}.0.0/16`] : [],
      approvedRoutes: router ? [`10.${(i / 50) & 255}.0.0/16`] : [],
    });
  }
  return { users, nodes };
}

function buildPolicy(): string {
  const groups: Record<string, string[]> = {};
  for (let g = 0; g < GROUPS; g++) {
    const members: string[] = [];
    for (let k = 0; k < 10; k++) members.push(`user${((g * 10 + k) % USERS) + 1}@example.com`);
    groups[`group:g${g}`] = members;
  }
  const tagOwners: Record<string, string[]> = {};
  for (let t = 0; t < TAGS; t++) tagOwners[`tag:t${t}`] = [`group:g${t % GROUPS}`];
  const acls: unknown[] = [];
  for (let r = 0; r < RULES; r++) {
    const kind = r % 10;
    if (kind === 0) acls.push({ action: 'accept', src: ['*'], dst: ['autogroup:self:*'] });
    else if (kind < 5) acls.push({ action: 'accept', src: [`group:g${pick(GROUPS)}`, `group:g${pick(GROUPS)}`], dst: [`tag:t${pick(TAGS)}:${22 + pick(1000)}`, `tag:t${pick(TAGS)}:443`] });
    else if (kind < 7) acls.push({ action: 'accept', proto: 'tcp', src: [`tag:t${pick(TAGS)}`], dst: [`tag:t${pick(TAGS)}:5432`] });
    else if (kind === 7) acls.push({ action: 'accept', src: ['autogroup:member'], dst: [`tag:t${pick(TAGS)}:80,443`] });
    else if (kind === 8) acls.push({ action: 'accept', src: [`user${pick(USERS) + 1}@example.com`], dst: [`user${pick(USERS) + 1}@example.com:*`, `10.${pick(40)}.0.0/16:*`] });
    else acls.push({ action: 'accept', src: [`group:g${pick(GROUPS)}`], dst: [`group:g${pick(GROUPS)}:8000-8100`] });
  }
  const ssh = [
    { action: 'accept', src: ['autogroup:member'], dst: ['autogroup:self'], users: ['autogroup:nonroot'] },
    { action: 'check', src: ['group:g1'], dst: ['tag:t1'], users: ['root'] },
  ];
  return JSON.stringify({ groups, tagOwners, acls, ssh }, null, 1);
}

function time<T>(label: string, fn: () => T): T {
  const t0 = performance.now();
  const v = fn();
  console.log(`${label.padEnd(52)} ${(performance.now() - t0).toFixed(1).padStart(9)} ms`);
  return v;
}

const topology = buildTopology();
const text = buildPolicy();
console.log(`policy: ${RULES} ACL rules, ${GROUPS} groups, ${TAGS} tags; topology: ${USERS} users, ${NODES} nodes (${topology.nodes.filter((n) => n.tags.length).length} tagged)`);

// warm up the JIT once on the same data
compilePolicy(parsePolicy(text), topology).packetFilterFor(1);

const policy = time('parse (HuJSON + validation)', () => parsePolicy(text));
const t0 = performance.now();
const compiled = time('compile (global rules + reduction index)', () => compilePolicy(policy, topology));
let entries = 0;
time(`packetFilterFor x ${NODES} (per-node reduction)`, () => {
  for (const n of topology.nodes) entries += compiled.packetFilterFor(n.id).length;
});
const full = performance.now() - t0;
console.log(`${'full recompute (compile + every packet filter)'.padEnd(52)} ${full.toFixed(1).padStart(9)} ms   ${full < 1000 ? 'OK (< 1 s)' : 'OVER 1 s'}`);
console.log(`  global rules: ${compiled.globalFilter().length}, per-node rules total: ${entries}`);
time(`sshPolicyFor x ${NODES}`, () => {
  for (const n of topology.nodes) compiled.sshPolicyFor(n.id);
});
let peerCount = 0;
time(`peersOf x ${NODES}`, () => {
  for (const n of topology.nodes) peerCount += compiled.peersOf(n.id).length;
});
console.log(`  peer entries total: ${peerCount}`);

// change one node's tags: a new compile for the new topology (given the previous one, so the
// cached filters of nodes the change cannot affect are kept), then every node's filter again
const changed = topology.nodes[5]!; // a user-owned node becomes tagged
const nodes2 = topology.nodes.map((n) => (n.id === changed.id ? { ...n, userId: null, tags: ['tag:t3'] } : n));
const topology2 = { users: topology.users, nodes: nodes2 };
const tc = performance.now();
const compiled2 = time("change one node's tags: recompile (with previous)", () => compilePolicy(policy, topology2, { previous: compiled }));
let recomputed = 0;
time(`  + packetFilterFor x ${NODES} (unaffected reused)`, () => {
  for (const n of topology2.nodes) if (compiled2.packetFilterFor(n.id) !== compiled.packetFilterFor(n.id)) recomputed++;
});
console.log(`${"change one node's tags: total".padEnd(52)} ${(performance.now() - tc).toFixed(1).padStart(9)} ms   (${recomputed} node filters recomputed)`);
time("  for comparison: the same change without previous", () => {
  const c = compilePolicy(policy, topology2);
  for (const n of topology2.nodes) c.packetFilterFor(n.id);
});
