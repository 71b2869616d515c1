// peersOf, peerAllowedIPs, autoApprove and capMapFor.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy } from './compiled.js';
import { OWNERS, TOPO, ids } from './fixture.test-helper.js';
import { parsePolicy } from './parse.js';
import type { PolicyNode } from './topology.js';

function compile(body: string) {
  return compilePolicy(parsePolicy(`{${OWNERS}, ${body}}`), TOPO);
}

test('visibility is symmetric and limited to what the rules connect', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["tag:server:22"]}]');
  assert.deepEqual(c.peersOf(ids.laptop), [ids.server]);
  assert.deepEqual(c.peersOf(ids.phone), [ids.server]);
  assert.deepEqual(c.peersOf(ids.server), [ids.laptop, ids.phone]);
  assert.deepEqual(c.peersOf(ids.bob), []);
  assert.deepEqual(c.peersOf(ids.router), []);
});

test('subnet routes: the router is a peer of who can reach its route; AllowedIPs include it', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["10.0.0.0/24:*"]}]');
  assert.deepEqual(c.peersOf(ids.laptop), [ids.router]);
  assert.deepEqual(c.peersOf(ids.router), [ids.laptop, ids.phone]);
  assert.deepEqual(c.peerAllowedIPs(ids.laptop, ids.router), ['100.64.0.5/32', 'fd7a:115c:a1e0::5/128', '10.0.0.0/24']);
});

test('a route the viewer cannot reach stays out of AllowedIPs', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["tag:router:22"]}]');
  assert.deepEqual(c.peerAllowedIPs(ids.laptop, ids.router), ['100.64.0.5/32', 'fd7a:115c:a1e0::5/128']);
  assert.ok(!c.peerAllowedIPs(ids.laptop, ids.router).includes('192.168.0.0/24'), 'unapproved routes never appear');
});

test('exit nodes: visible through autogroup:internet, exit routes in AllowedIPs', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["autogroup:internet:*"]}]');
  assert.deepEqual(c.peersOf(ids.laptop), [ids.exit]);
  assert.deepEqual(c.peersOf(ids.exit), [ids.laptop, ids.phone]);
  assert.deepEqual(c.peerAllowedIPs(ids.laptop, ids.exit), ['100.64.0.6/32', 'fd7a:115c:a1e0::6/128', '0.0.0.0/0', '::/0']);
  assert.deepEqual(c.peersOf(ids.bob), []);
});

test('no policy: every route is visible', () => {
  const c = compilePolicy(null, TOPO);
  assert.deepEqual(c.peerAllowedIPs(ids.bob, ids.router), ['100.64.0.5/32', 'fd7a:115c:a1e0::5/128', '10.0.0.0/24']);
});

test('HA: only the primary (lowest id) carries a shared route', () => {
  const extra: PolicyNode = { id: 7, name: 'router2', userId: null, tags: ['tag:router'], ipv4: '100.64.0.7', ipv6: 'fd7a:115c:a1e0::7', announcedRoutes: ['10.0.0.0/24'], approvedRoutes: ['10.0.0.0/24'] };
  const c = compilePolicy(parsePolicy(`{${OWNERS}, "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}`), { users: TOPO.users, nodes: [...TOPO.nodes, extra] });
  assert.ok(c.peerAllowedIPs(ids.laptop, ids.router).includes('10.0.0.0/24'));
  assert.ok(!c.peerAllowedIPs(ids.laptop, 7).includes('10.0.0.0/24'));
});

test('autoApprove: containing prefixes, exit only via exitNode, tags as identity', () => {
  const c = compile('"acls": [], "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:router"], "0.0.0.0/0": ["tag:router"], "172.16.0.0/12": ["group:dev"]}, "exitNode": ["tag:exit"]}');
  const router: PolicyNode = { ...TOPO.nodes[4]!, announcedRoutes: ['10.1.0.0/16', '192.168.0.0/24', '0.0.0.0/0', '::/0'], approvedRoutes: [] };
  assert.deepEqual(c.autoApprove(router), { routes: ['10.1.0.0/16', '192.168.0.0/24'] }, '0.0.0.0/0 in routes approves subnets, never exit');
  const exit: PolicyNode = { ...TOPO.nodes[5]!, approvedRoutes: [] };
  assert.deepEqual(c.autoApprove(exit), { routes: ['0.0.0.0/0', '::/0'] });
  const laptop: PolicyNode = { ...TOPO.nodes[0]!, announcedRoutes: ['172.16.5.0/24', '10.0.0.0/24'] };
  assert.deepEqual(c.autoApprove(laptop), { routes: ['172.16.5.0/24'] });
  const taggedAlice: PolicyNode = { ...TOPO.nodes[3]!, announcedRoutes: ['172.16.5.0/24'] };
  assert.deepEqual(c.autoApprove(taggedAlice), { routes: [] }, 'a tagged node is not its user\'s');
  const wider: PolicyNode = { ...TOPO.nodes[0]!, announcedRoutes: ['172.0.0.0/8'] };
  assert.deepEqual(c.autoApprove(wider), { routes: [] }, 'a wider route is not approved by a narrower key');
});

test('capMapFor: nodeAttrs targets and randomizeClientPort', () => {
  const c = compile('"randomizeClientPort": true, "nodeAttrs": [{"target": ["tag:server", "alice@example.com"], "attr": ["magicdns-aaaa", "nextdns:abc"]}, {"target": ["100.64.0.3"], "attr": ["disable-ipv4"]}]');
  assert.deepEqual(c.capMapFor(ids.server), { 'randomize-client-port': null, 'magicdns-aaaa': null, 'nextdns:abc': null });
  assert.deepEqual(c.capMapFor(ids.laptop), { 'randomize-client-port': null, 'magicdns-aaaa': null, 'nextdns:abc': null });
  assert.deepEqual(c.capMapFor(ids.bob), { 'randomize-client-port': null, 'disable-ipv4': null });
  assert.deepEqual(c.capMapFor(ids.router), { 'randomize-client-port': null });
  assert.deepEqual(compilePolicy(null, TOPO).capMapFor(ids.bob), {});
});

test('disable-ipv4: the node and everyone it sees lose the IPv4 address in AllowedIPs; routes stay', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}], "nodeAttrs": [{"target": ["tag:router"], "attr": ["disable-ipv4"]}]');
  assert.deepEqual([...c.ipv4DisabledNodes()], [ids.router]);
  assert.deepEqual(c.peerAllowedIPs(ids.laptop, ids.router), ['fd7a:115c:a1e0::5/128', '10.0.0.0/24']);
  assert.deepEqual(c.peerAllowedIPs(ids.router, ids.laptop), ['fd7a:115c:a1e0::1/128']);
  assert.deepEqual(c.peerAllowedIPs(ids.laptop, ids.bob), ['100.64.0.3/32', 'fd7a:115c:a1e0::3/128'], 'others keep theirs');
  const plain = compile('"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]');
  assert.deepEqual(c.packetFilterFor(ids.router), plain.packetFilterFor(ids.router), 'filters are unchanged');
});
