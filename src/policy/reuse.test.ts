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
