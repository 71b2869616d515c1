// compileForTopology: the `policy compile` command's output shape.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileForTopology } from './compile-command.js';
import { PolicyError } from './errors.js';

const TOPO = {
  users: [{ name: 'alice', email: 'alice@example.com' }],
  nodes: [
    { name: 'laptop', user: 'alice', tags: [], ipv4: '100.64.0.1', ipv6: 'fd7a:115c:a1e0::1', announced_routes: [], approved_routes: [] },
    { name: 'router', tags: ['tag:router'], ipv4: '100.64.0.2', ipv6: 'fd7a:115c:a1e0::2', announced_routes: ['10.0.0.0/24'], approved_routes: [] },
  ],
};

test('per-node output with auto-approved routes applied', () => {
  const policy = `{
    "tagOwners": {"tag:router": ["alice@example.com"]},
    "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:router"]}},
    "acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["10.0.0.0/8:22"]}],
  }`;
  const out = compileForTopology(policy, TOPO) as { nodes: Record<string, Record<string, unknown>> };
  assert.deepEqual(Object.keys(out.nodes), ['laptop', 'router']);
  assert.deepEqual(out.nodes.laptop, {
    packetFilter: [],
    sshPolicy: { rules: [] },
    capMap: {},
    peers: ['router'],
    peerAllowedIPs: { router: ['100.64.0.2/32', 'fd7a:115c:a1e0::2/128', '10.0.0.0/24'] },
  });
  assert.deepEqual(out.nodes.router!.packetFilter, [{ SrcIPs: ['100.64.0.1', 'fd7a:115c:a1e0::1'], DstPorts: [{ IP: '10.0.0.0/8', Ports: { First: 22, Last: 22 } }] }]);
  assert.deepEqual(out.nodes.router!.peers, ['laptop']);
});

test('an empty policy file allows everything', () => {
  const out = compileForTopology('', TOPO) as { nodes: Record<string, { packetFilter: unknown; peers: string[] }> };
  assert.deepEqual(out.nodes.laptop!.packetFilter, [{ SrcIPs: ['*'], DstPorts: [{ IP: '*', Ports: { First: 0, Last: 65535 } }] }]);
  assert.deepEqual(out.nodes.laptop!.peers, ['router']);
});

test('bad input is a PolicyError', () => {
  assert.throws(() => compileForTopology('{"acls": [}', TOPO), PolicyError);
  assert.throws(() => compileForTopology('{}', { users: [], nodes: [{ name: 'x', user: 'ghost' }] }), /unknown user "ghost"/);
});
