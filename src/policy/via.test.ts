// Via grants (§3.10): per-viewer route steering, visibility, the via routers' filters, and
// what a viewer without the via grant sees. Hand-written from the semantics in via.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy } from './compiled.js';
import { parsePolicy } from './parse.js';
import type { PolicyNode, Topology } from './topology.js';

const LAN = '10.44.0.0/16';

function node(id: number, name: string, tags: string[], routes: string[] = [], extra: Partial<PolicyNode> = {}): PolicyNode {
  return { id, name, userId: tags.length > 0 ? null : 1, tags, ipv4: `100.64.0.${id}`, ipv6: `fd7a:115c:a1e0::${id}`, announcedRoutes: routes, approvedRoutes: routes, ...extra };
}

/** Two clients, two routers for the same LAN (ids 3 and 4, 3 is the HA primary), an exit node. */
function topo(extra: Record<number, Partial<PolicyNode>> = {}): Topology {
  return {
    users: [{ id: 1, name: 'alice', email: 'alice@example.com' }],
    nodes: [
      node(1, 'client-a', ['tag:a'], [], extra[1]),
      node(2, 'client-b', ['tag:b'], [], extra[2]),
      node(3, 'router-x', ['tag:rx'], [LAN], extra[3]),
      node(4, 'router-y', ['tag:ry'], [LAN], extra[4]),
      node(5, 'exit', ['tag:ex'], ['0.0.0.0/0', '::/0'], extra[5]),
      node(6, 'laptop', [], [], extra[6]),
    ],
  };
}

const tagOwners = { 'tag:a': [], 'tag:b': [], 'tag:rx': [], 'tag:ry': [], 'tag:ex': [] };

function compile(grants: object[], t: Topology = topo()) {
  return compilePolicy(parsePolicy(JSON.stringify({ tagOwners, grants })), t);
}

const routes = (c: ReturnType<typeof compile>, viewer: number, peer: number) => c.peerRoutes(viewer, peer);
const crossed = [
  { src: ['tag:a'], dst: [LAN], ip: ['*'], via: ['tag:rx'] },
  { src: ['tag:b'], dst: [LAN], ip: ['*'], via: ['tag:ry'] },
];

test('each viewer gets the LAN through the router its via grant names', () => {
  const c = compile(crossed);
  assert.deepEqual(routes(c, 1, 3), [LAN]);
  assert.deepEqual(routes(c, 1, 4), [], 'client-a is not steered to router-y');
  assert.deepEqual(routes(c, 2, 4), [LAN], 'router-y carries it for client-b although router-x is the HA primary');
  assert.deepEqual(routes(c, 2, 3), []);
  assert.deepEqual(c.peerAllowedIPs(2, 4), ['100.64.0.4/32', 'fd7a:115c:a1e0::4/128', LAN]);
});

test('a viewer without the via grant gets no route through the via router, and does not see it', () => {
  const c = compile([crossed[0]!]);
  assert.deepEqual(routes(c, 2, 3), [], 'client-b has no grant at all');
  assert.deepEqual(routes(c, 2, 4), []);
  assert.deepEqual(c.peersOf(2), []);
  assert.deepEqual(routes(c, 6, 3), [], 'nor does an unrelated user device');
  assert.deepEqual(c.peersOf(3), [1], 'the via router sees only the grant source');
  assert.deepEqual(c.peersOf(4), [], 'router-y has no via tag of the grant');
  assert.deepEqual(c.peersOf(1), [3]);
});

test('the via router is the only one whose filter admits the via traffic', () => {
  const c = compile([crossed[0]!]);
  assert.deepEqual(c.packetFilterFor(3), [{ SrcIPs: ['100.64.0.1', 'fd7a:115c:a1e0::1'], DstPorts: [{ IP: LAN, Ports: { First: 0, Last: 65535 } }] }]);
  assert.deepEqual(c.packetFilterFor(4), []);
  assert.deepEqual(c.packetFilterFor(1), [], 'no global rule');
});

test('a regular grant to the same LAN puts the viewer back on the HA primary', () => {
  const c = compile([crossed[1]!, { src: ['tag:b'], dst: [LAN], ip: ['*'] }]);
  assert.deepEqual(routes(c, 2, 3), [LAN], 'router-x is the primary');
  assert.deepEqual(routes(c, 2, 4), []);
});

test('several routers with the via tag: the HA primary if it is one of them, else the lowest online id', () => {
  const both = [{ src: ['tag:b'], dst: [LAN], ip: ['*'], via: ['tag:rx', 'tag:ry'] }];
  assert.deepEqual(routes(compile(both), 2, 3), [LAN], 'lowest id (the primary)');
  // the server's election made router-y primary: steering follows it
  const elected = topo({ 3: { primaryRoutes: [] }, 4: { primaryRoutes: [LAN] } });
  assert.deepEqual(routes(compile(both, elected), 2, 4), [LAN]);
  assert.deepEqual(routes(compile(both, elected), 2, 3), []);
  // neither is primary (the election has nobody online for it): an online router is preferred
  const offline = topo({ 3: { primaryRoutes: [], online: false }, 4: { primaryRoutes: [], online: true } });
  assert.deepEqual(routes(compile(both, offline), 2, 4), [LAN]);
});

test('with a server election, a regular grant shows the route only on the elected primary', () => {
  const elected = topo({ 3: { primaryRoutes: [] }, 4: { primaryRoutes: [LAN] } });
  const c = compile([{ src: ['tag:a'], dst: [LAN], ip: ['*'] }], elected);
  assert.deepEqual(routes(c, 1, 4), [LAN]);
  assert.deepEqual(routes(c, 1, 3), []);
  assert.equal(c.packetFilterFor(3).length, 1, 'every HA member admits the traffic, ready for failover');
});

test('a via destination wider or narrower than the route still steers the advertised route', () => {
  for (const dst of ['10.0.0.0/8', '10.44.5.0/24']) {
    const c = compile([{ src: ['tag:a'], dst: [dst], ip: ['tcp:443'], via: ['tag:ry'] }]);
    assert.deepEqual(routes(c, 1, 4), [LAN], dst);
    assert.deepEqual(c.packetFilterFor(4)[0]!.DstPorts, [{ IP: dst, Ports: { First: 443, Last: 443 } }]);
  }
  const disjoint = compile([{ src: ['tag:a'], dst: ['192.168.0.0/16'], ip: ['*'], via: ['tag:ry'] }]);
  assert.deepEqual(routes(disjoint, 1, 4), []);
  assert.deepEqual(disjoint.peersOf(1), []);
});

test('a via grant with only app adds no rule but still shows the via routers and steers', () => {
  const c = compile([{ src: ['tag:a'], dst: [LAN], app: { 'example.com/cap/x': [{}] }, via: ['tag:ry'] }]);
  assert.deepEqual(c.packetFilterFor(4), []);
  assert.deepEqual(c.peersOf(1), [4]);
  assert.deepEqual(routes(c, 1, 4), [LAN]);
});

test('autogroup:internet via an exit tag: only exit nodes carrying it offer exit routes', () => {
  const t = topo({ 4: { announcedRoutes: [LAN, '0.0.0.0/0', '::/0'], approvedRoutes: [LAN, '0.0.0.0/0', '::/0'] } });
  const c = compile([{ src: ['tag:a'], dst: ['autogroup:internet'], ip: ['*'], via: ['tag:ex'] }], t);
  assert.deepEqual(routes(c, 1, 5), ['0.0.0.0/0', '::/0']);
  assert.deepEqual(routes(c, 1, 4), [], 'router-y is an exit node without the via tag');
  assert.deepEqual(routes(c, 2, 5), [], 'client-b has no grant');
  assert.deepEqual(c.peersOf(1), [5]);
  assert.equal(c.packetFilterFor(5)[0]!.DstPorts!.length > 0, true);
  assert.deepEqual(c.packetFilterFor(4), []);
});
