// compilePolicy: packet filters per node, by selector, with negative cases (a node receives
// nothing the policy does not grant).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FilterRule } from '../tailcfg/types.js';
import { compilePolicy } from './compiled.js';
import { OWNERS, TOPO, ids } from './fixture.test-helper.js';
import { parsePolicy } from './parse.js';

const ANY = { First: 0, Last: 65535 };
const WILDCARD_SRC = ['100.64.0.0-100.115.91.255', '100.115.94.0-100.127.255.255', 'fd7a:115c:a1e0::/48'];
const v4 = (id: number) => `100.64.0.${id}`;
const v6 = (id: number) => `fd7a:115c:a1e0::${id}`;
const both = (id: number) => [v4(id), v6(id)];

function compile(body: string) {
  return compilePolicy(parsePolicy(`{${OWNERS}, ${body}}`), TOPO);
}

function dsts(rules: FilterRule[]): string[] {
  return rules.flatMap((r) => (r.DstPorts ?? []).map((d) => `${d.IP}:${d.Ports.First}-${d.Ports.Last}`));
}

test('no policy: allow-all for every node, everyone is a peer', () => {
  const c = compilePolicy(null, TOPO);
  for (const n of TOPO.nodes) {
    assert.deepEqual(c.packetFilterFor(n.id), [{ SrcIPs: ['*'], DstPorts: [{ IP: '*', Ports: ANY }] }]);
    assert.equal(c.peersOf(n.id).length, TOPO.nodes.length - 1);
  }
  assert.equal(c.sshPolicyFor(1), null);
});

test('{} allows everything, written as SaaS writes the wildcard', () => {
  const c = compilePolicy(parsePolicy('{}'), TOPO);
  assert.deepEqual(c.packetFilterFor(ids.laptop), [{ SrcIPs: [...WILDCARD_SRC, '10.0.0.0/24'], DstPorts: [{ IP: '*', Ports: ANY }] }]);
  assert.equal(c.peersOf(ids.laptop).length, 5);
});

test('"acls": [] and "grants": [] deny everything', () => {
  for (const text of ['{"acls": []}', '{"grants": []}', '{"acls": [], "grants": []}']) {
    const c = compilePolicy(parsePolicy(text), TOPO);
    for (const n of TOPO.nodes) {
      assert.deepEqual(c.packetFilterFor(n.id), []);
      assert.deepEqual(c.peersOf(n.id), []);
    }
  }
});

test('group to tag: only the tagged destination gets the rule', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["tag:server:22"]}]');
  assert.deepEqual(c.packetFilterFor(ids.server), [
    { SrcIPs: [v4(1), v4(2), v6(1), v6(2)], DstPorts: [{ IP: v4(4), Ports: { First: 22, Last: 22 } }, { IP: v6(4), Ports: { First: 22, Last: 22 } }] },
  ]);
  for (const id of [ids.laptop, ids.phone, ids.bob, ids.router, ids.exit]) assert.deepEqual(c.packetFilterFor(id), [], `node ${id}`);
});

test('tags are identities: a tagged node is not its user\'s', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["alice@example.com:*"]}]');
  const rules = c.packetFilterFor(ids.laptop);
  assert.equal(rules.length, 1);
  assert.ok(!rules[0]!.SrcIPs.some((s) => s.includes('0.4') || s.endsWith('::4')), 'server (tagged) is not a source');
  assert.deepEqual(c.packetFilterFor(ids.server), [], 'server (tagged) is not a destination');
  const m = compile('"acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:tagged:80"]}]');
  assert.deepEqual(m.packetFilterFor(ids.server)[0]!.SrcIPs, [v4(1), v4(2), v4(3), v6(1), v6(2), v6(3)]);
  assert.deepEqual(m.packetFilterFor(ids.laptop), []);
  // the tagged set {4,5,6} written as prefixes: 4/31 covers server and router
  assert.deepEqual(dsts(m.packetFilterFor(ids.router)), ['100.64.0.4/31:80-80', 'fd7a:115c:a1e0::4/127:80-80']);
  assert.deepEqual(dsts(m.packetFilterFor(ids.exit)), ['100.64.0.6:80-80', 'fd7a:115c:a1e0::6:80-80']);
});

test('wildcard source adds each approved subnet route, never unapproved ones', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["*", "tag:server"], "dst": ["tag:server:443"]}]');
  const r = c.packetFilterFor(ids.server)[0]!;
  assert.deepEqual(r.SrcIPs, [...WILDCARD_SRC, '10.0.0.0/24', v4(4), v6(4)]);
  assert.ok(!r.SrcIPs.includes('192.168.0.0/24'));
});

test('autogroup:danger-all compiles to SrcIPs ["*"]', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["autogroup:danger-all"], "dst": ["tag:server:*"]}]');
  assert.deepEqual(c.packetFilterFor(ids.server)[0]!.SrcIPs, ['*']);
});

test('wildcard destination stays "*" and reaches every node', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["*:22,80-81"]}]');
  for (const n of TOPO.nodes) assert.deepEqual(dsts(c.packetFilterFor(n.id)), ['*:22-22', '*:80-81']);
});

test('subnet routes: CIDR or host destination reaches the covering router only', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["lan:22", "10.0.0.5:80", "192.168.0.0/24:*"]}]');
  assert.deepEqual(dsts(c.packetFilterFor(ids.router)), ['10.0.0.0/16:22-22', '10.0.0.5:80-80']);
  for (const id of [ids.laptop, ids.server, ids.exit]) assert.deepEqual(c.packetFilterFor(id), []);
});

test('IP literal matches only that address', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["srvip:22", "fd7a:115c:a1e0::3:22"]}]');
  assert.deepEqual(dsts(c.packetFilterFor(ids.server)), ['100.64.0.4:22-22']);
  assert.deepEqual(dsts(c.packetFilterFor(ids.bob)), ['fd7a:115c:a1e0::3:22-22']);
});

test('autogroup:internet goes to exit nodes only, as ranges', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["group:dev"], "dst": ["autogroup:internet:*"]}]');
  const r = c.packetFilterFor(ids.exit);
  assert.equal(r.length, 1);
  assert.equal(r[0]!.DstPorts!.length, 7);
  assert.equal(r[0]!.DstPorts![0]!.IP, '0.0.0.0-9.255.255.255');
  for (const id of [ids.laptop, ids.router, ids.server]) assert.deepEqual(c.packetFilterFor(id), []);
});

test('proto becomes IPProto; rules with equal SrcIPs and IPProto merge', () => {
  const c = compile('"acls": [{"action": "accept", "proto": "tcp", "src": ["group:dev"], "dst": ["tag:server:22", "tag:server:80"]}, {"action": "accept", "proto": "udp", "src": ["group:dev"], "dst": ["tag:server:53"]}]');
  const rules = c.packetFilterFor(ids.server);
  assert.equal(rules.length, 2);
  assert.deepEqual(rules[0]!.IPProto, [6]);
  assert.deepEqual(dsts([rules[0]!]), [`${v4(4)}:22-22`, `${v6(4)}:22-22`, `${v4(4)}:80-80`, `${v6(4)}:80-80`]);
  assert.deepEqual(rules[1]!.IPProto, [17]);
  const g = compile('"grants": [{"src": ["group:dev"], "dst": ["tag:server"], "ip": ["22", "80"]}]');
  const gr = g.packetFilterFor(ids.server);
  assert.equal(gr.length, 1);
  assert.equal(gr[0]!.IPProto, undefined);
  assert.equal(gr[0]!.DstPorts!.length, 4);
  const icmp = compile('"grants": [{"src": ["group:dev"], "dst": ["tag:server"], "ip": ["icmp:*", "58:*"]}]');
  assert.deepEqual(icmp.packetFilterFor(ids.server).map((r) => r.IPProto), [[1], [58]]);
});

test('autogroup:self: each user reaches only their own untagged devices', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["*"], "dst": ["autogroup:self:*"]}]');
  assert.deepEqual(c.packetFilterFor(ids.laptop), [{ SrcIPs: [v4(1), v4(2), v6(1), v6(2)], DstPorts: [{ IP: v4(1), Ports: ANY }, { IP: v6(1), Ports: ANY }] }]);
  assert.deepEqual(c.packetFilterFor(ids.bob), [{ SrcIPs: both(3), DstPorts: [{ IP: v4(3), Ports: ANY }, { IP: v6(3), Ports: ANY }] }]);
  assert.deepEqual(c.packetFilterFor(ids.server), []);
  assert.deepEqual(c.peersOf(ids.laptop), [ids.phone]);
  assert.deepEqual(c.peersOf(ids.bob), []);
  const g = compile('"grants": [{"src": ["group:dev"], "dst": ["autogroup:self"], "ip": ["22"]}]');
  assert.deepEqual(g.packetFilterFor(ids.bob), [], 'bob is not in group:dev');
});

test('app grants: CapGrant narrowed to the node, never merged', () => {
  const c = compile('"grants": [{"src": ["group:dev"], "dst": ["*"], "app": {"example.com/cap/x": [{"level": 1}]}}]');
  assert.deepEqual(c.packetFilterFor(ids.bob), [{ SrcIPs: [v4(1), v4(2), v6(1), v6(2)], CapGrant: [{ Dsts: ['100.64.0.3/32', 'fd7a:115c:a1e0::3/128'], CapMap: { 'example.com/cap/x': [{ level: 1 }] } }] }]);
  assert.ok(c.peersOf(ids.laptop).includes(ids.bob), 'an app grant also creates visibility');
  const d = compile('"grants": [{"src": ["group:dev"], "dst": ["tag:server"], "app": {"tailscale.com/cap/drive": [{}]}}]');
  const laptop = d.packetFilterFor(ids.laptop);
  assert.deepEqual(laptop, [{ SrcIPs: both(4), CapGrant: [{ Dsts: ['100.64.0.1/32', 'fd7a:115c:a1e0::1/128'], CapMap: { 'tailscale.com/cap/drive-sharer': null as unknown as unknown[] } }] }]);
});

test('via grants reach only routers carrying the via tag', () => {
  const c = compile('"grants": [{"src": ["group:dev"], "dst": ["10.0.0.0/24", "autogroup:internet"], "ip": ["tcp:443"], "via": ["tag:router"]}]');
  assert.deepEqual(dsts(c.packetFilterFor(ids.router)), ['10.0.0.0/24:443-443']);
  assert.deepEqual(c.packetFilterFor(ids.exit), [], 'the exit node has no via tag');
  assert.deepEqual(c.packetFilterFor(ids.laptop), []);
  assert.ok(c.peersOf(ids.laptop).includes(ids.router));
  assert.ok(c.peersOf(ids.router).includes(ids.laptop));
  assert.ok(!c.peersOf(ids.bob).includes(ids.router));
  assert.deepEqual(c.globalFilter(), []);
});

test('unknown users resolve to nothing', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["nobody@example.com"], "dst": ["*:*"]}]');
  for (const n of TOPO.nodes) assert.deepEqual(c.packetFilterFor(n.id), []);
});

test('user:*@domain matches that domain only', () => {
  const c = compile('"acls": [{"action": "accept", "src": ["user:*@example.org"], "dst": ["tag:server:22"]}]');
  assert.deepEqual(c.packetFilterFor(ids.server)[0]!.SrcIPs, both(3));
});

test('a user token matching several users is refused', () => {
  const topo = { users: [...TOPO.users, { id: 3, name: 'alice', email: 'alice@other.example' }], nodes: TOPO.nodes };
  assert.throws(() => compilePolicy(parsePolicy(`{${OWNERS}, "acls": [{"action": "accept", "src": ["alice@"], "dst": ["*:*"]}]}`), topo), /multiple users found/);
});
