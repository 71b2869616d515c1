// Recompiling with `previous`: every node's packet filter must equal a fresh compile's.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy } from './compiled.js';
import { OWNERS, TOPO } from './fixture.test-helper.js';
import { parsePolicy } from './parse.js';
import type { PolicyNode, Topology } from './topology.js';

const POLICY = parsePolicy(`{${OWNERS}, "acls": [
  {"action": "accept", "src": ["group:dev"], "dst": ["tag:server:22", "tag:router:80"]},
  {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*", "tag:exit:443"]},
  {"action": "accept", "src": ["tag:server"], "dst": ["bob@example.org:8080"]},
  {"action": "accept", "src": ["*"], "dst": ["10.0.0.0/24:53"]}
]}`);

function changes(): Array<[string, (n: PolicyNode) => PolicyNode]> {
  return [
    ['user node becomes tagged', (n) => (n.id === 2 ? { ...n, userId: null, tags: ['tag:server'] } : n)],
    ['tag changes', (n) => (n.id === 4 ? { ...n, tags: ['tag:router'] } : n)],
    ['route approval removed', (n) => (n.id === 5 ? { ...n, approvedRoutes: [] } : n)],
    ['address changes', (n) => (n.id === 3 ? { ...n, ipv4: '100.64.9.9' } : n)],
    ['nothing changes', (n) => n],
  ];
}

for (const [label, change] of changes()) {
  test(`reuse after: ${label}`, () => {
    const before = compilePolicy(POLICY, TOPO);
    for (const n of TOPO.nodes) before.packetFilterFor(n.id);
    const next: Topology = { users: TOPO.users, nodes: TOPO.nodes.map(change) };
    const reused = compilePolicy(POLICY, next, { previous: before });
    const fresh = compilePolicy(POLICY, next);
    for (const n of next.nodes) assert.deepEqual(reused.packetFilterFor(n.id), fresh.packetFilterFor(n.id), `node ${n.name}`);
  });
}

test('a removed node is not carried over', () => {
  const before = compilePolicy(POLICY, TOPO);
  for (const n of TOPO.nodes) before.packetFilterFor(n.id);
  const next: Topology = { users: TOPO.users, nodes: TOPO.nodes.filter((n) => n.id !== 1) };
  const reused = compilePolicy(POLICY, next, { previous: before });
  assert.throws(() => reused.packetFilterFor(1), RangeError);
  const fresh = compilePolicy(POLICY, next);
  for (const n of next.nodes) assert.deepEqual(reused.packetFilterFor(n.id), fresh.packetFilterFor(n.id));
});

test('randomised: reuse equals a fresh compile after many single-node changes', () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const users = Array.from({ length: 20 }, (_, i) => ({ id: i + 1, name: `u${i + 1}`, email: `u${i + 1}@example.com` }));
  let nodes: PolicyNode[] = Array.from({ length: 120 }, (_, i) => {
    const tagged = i % 4 === 0;
    const router = tagged && i % 12 === 0;
    return { id: i + 1, name: `n${i + 1}`, userId: tagged ? null : (i % 20) + 1, tags: tagged ? [`tag:t${i % 6}`] : [], ipv4: `100.64.${i >> 8}.${(i & 255) + 1}`, ipv6: `fd7a:115c:a1e0::${(i + 1).toString(16)}`, announcedRoutes: router ? [`10.${i}.0.0/16`] : [], approvedRoutes: router ? [`10.${i}.0.0/16`] : [] };
  });
  const groups = Object.fromEntries(Array.from({ length: 5 }, (_, g) => [`group:g${g}`, [`u${g * 4 + 1}@example.com`, `u${g * 4 + 2}@example.com`]]));
  const tagOwners = Object.fromEntries(Array.from({ length: 6 }, (_, t) => [`tag:t${t}`, ['u1@example.com']]));
  const acls = Array.from({ length: 40 }, (_, r) => {
    switch (r % 5) {
      case 0: return { action: 'accept', src: ['*'], dst: ['autogroup:self:*'] };
      case 1: return { action: 'accept', src: [`group:g${rnd(5)}`], dst: [`tag:t${rnd(6)}:${rnd(1000) + 1}`] };
      case 2: return { action: 'accept', src: [`tag:t${rnd(6)}`], dst: [`group:g${rnd(5)}:22`] };
      case 3: return { action: 'accept', src: ['autogroup:member'], dst: [`10.${rnd(120)}.0.0/16:*`] };
      default: return { action: 'accept', src: [`u${rnd(20) + 1}@example.com`], dst: [`u${rnd(20) + 1}@example.com:*`] };
    }
  });
  const policy = parsePolicy(JSON.stringify({ groups, tagOwners, acls }));
  let prev = compilePolicy(policy, { users, nodes });
  for (const n of nodes) prev.packetFilterFor(n.id);
  for (let step = 0; step < 25; step++) {
    const id = rnd(nodes.length) + 1;
    nodes = nodes.map((n) => {
      if (n.id !== id) return n;
      return rnd(2) === 0 ? { ...n, userId: null, tags: [`tag:t${rnd(6)}`] } : { ...n, userId: rnd(20) + 1, tags: [] };
    });
    const next = compilePolicy(policy, { users, nodes }, { previous: prev });
    const fresh = compilePolicy(policy, { users, nodes });
    for (const n of nodes) assert.deepEqual(next.packetFilterFor(n.id), fresh.packetFilterFor(n.id), `step ${step} node ${n.name}`);
    prev = next;
  }
});
