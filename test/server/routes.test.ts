// Subnet routes and exit nodes through the map: the double opt-in (announced and approved),
// PrimaryRoutes and AllowedIPs on peers, HA failover without flapping.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { ControlClient, type MapStream } from '../support/control-client.js';
import type { MapResponse, Node } from '../../src/tailcfg/types.js';

let s: TestServer;
let key: string;
const closers: Array<() => void> = [];

before(async () => {
  s = await startTestServer('sqlite');
  await s.cli('users', 'create', 'alice');
  key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
});
after(async () => {
  for (const c of closers) c();
  await s.close();
});

async function node(name: string, routes: string[] = []): Promise<{ c: ControlClient; m: MapStream; id: number }> {
  const c = new ControlClient(s.server.http.url);
  const hostinfo = { Hostname: name, OS: 'linux', RoutableIPs: routes };
  await c.register({ Auth: { AuthKey: key }, Hostinfo: hostinfo });
  const m = await c.map({ Hostinfo: hostinfo });
  const first = await m.next();
  closers.push(() => (m.close(), c.close()));
  return { c, m, id: first.Node!.ID };
}

function peerIn(m: MapResponse, id: number): Node | undefined {
  return [...(m.PeersChanged ?? []), ...(m.Peers ?? [])].find((p) => p.ID === id);
}

test('a subnet route takes effect only when announced and approved; HA fails over and does not flap', async () => {
  const viewer = await node('viewer');
  const r1 = await node('router1', ['10.9.0.0/24']);
  const r2 = await node('router2', ['10.9.0.0/24']);
  const announcedOnly = await viewer.m.until((m) => peerIn(m, r2.id) !== undefined);
  assert.deepEqual(peerIn(announcedOnly, r2.id)!.PrimaryRoutes, undefined);
  assert.ok(!peerIn(announcedOnly, r2.id)!.AllowedIPs.includes('10.9.0.0/24'), 'announced but not approved: no route');

  let r = await s.cli('nodes', 'approve-routes', '-i', String(r1.id), '-r', '10.9.0.0/24');
  assert.equal(r.code, 0, r.stderr);
  let m = await viewer.m.until((x) => peerIn(x, r1.id)?.PrimaryRoutes?.[0] === '10.9.0.0/24');
  assert.ok(peerIn(m, r1.id)!.AllowedIPs.includes('10.9.0.0/24'));

  r = await s.cli('nodes', 'approve-routes', '-i', String(r2.id), '-r', '10.9.0.0/24');
  assert.equal(r.code, 0, r.stderr);
  const routes = JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout) as Array<{ id: number; subnet_routes?: string[] }>;
  assert.deepEqual(routes.find((n) => n.id === r1.id)!.subnet_routes, ['10.9.0.0/24'], 'the first router stays primary');
  assert.equal(routes.find((n) => n.id === r2.id)!.subnet_routes, undefined);

  // The primary goes offline: the other takes over.
  r1.m.close();
  m = await viewer.m.until((x) => peerIn(x, r2.id)?.PrimaryRoutes?.[0] === '10.9.0.0/24');
  assert.ok(peerIn(m, r2.id)!.AllowedIPs.includes('10.9.0.0/24'));

  // It comes back: router2 keeps the route (no flapping).
  const back = await r1.c.map({ Hostinfo: { Hostname: 'router1', OS: 'linux', RoutableIPs: ['10.9.0.0/24'] } });
  closers.push(() => back.close());
  await back.next();
  await new Promise((res) => setTimeout(res, 200));
  assert.deepEqual(s.server.state.routes.primaryRoutes(r2.id), ['10.9.0.0/24']);
  assert.deepEqual(s.server.state.routes.primaryRoutes(r1.id), []);
});

test('an approved exit node offers 0.0.0.0/0 and ::/0 to its peers', async () => {
  const viewer = await node('exit-viewer');
  const exit = await node('exit', ['0.0.0.0/0', '::/0']);
  const r = await s.cli('nodes', 'approve-routes', '-i', String(exit.id), '-r', '0.0.0.0/0');
  assert.equal(r.code, 0, r.stderr);
  const m = await viewer.m.until((x) => (peerIn(x, exit.id)?.AllowedIPs ?? []).includes('::/0'));
  const peer = peerIn(m, exit.id)!;
  assert.ok(peer.AllowedIPs.includes('0.0.0.0/0'));
  assert.equal(peer.PrimaryRoutes, undefined, 'exit routes are not elected');
});
