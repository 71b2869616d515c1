// Peer entries shaped per viewer by the policy. Via grants: the same LAN served by two
// routers, each client steered to the router its via grant names — that router's AllowedIPs and
// PrimaryRoutes carry the LAN for that client only. disable-ipv4: the node's IPv4 address leaves
// its own and its peers' maps. Policy edits that reshape a peer reach clients as deltas.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer } from '../support/server.js';
import { ControlClient, type MapStream } from '../support/control-client.js';
import type { MapResponse, Node } from '../../src/tailcfg/types.js';

const LAN = '10.44.0.0/16';

function policy(bViaRouterY: boolean, noV4: string[] = []): string {
  const grants: object[] = [
    { src: ['tag:a', 'tag:b', 'tag:rx', 'tag:ry'], dst: ['tag:a', 'tag:b', 'tag:rx', 'tag:ry'], ip: ['*'] },
    { src: ['tag:a'], dst: [LAN], ip: ['*'], via: ['tag:rx'] },
    bViaRouterY ? { src: ['tag:b'], dst: [LAN], ip: ['*'], via: ['tag:ry'] } : { src: ['tag:b'], dst: [LAN], ip: ['*'] },
  ];
  const owners = ['tag:a', 'tag:b', 'tag:rx', 'tag:ry'].map((t) => [t, ['alice@']]);
  const nodeAttrs = noV4.length > 0 ? [{ target: noV4, attr: ['disable-ipv4'] }] : [];
  return JSON.stringify({ tagOwners: Object.fromEntries(owners), grants, nodeAttrs });
}

function peer(m: MapResponse, id: number): Node | undefined {
  return [...(m.PeersChanged ?? []), ...(m.Peers ?? [])].find((p) => p.ID === id);
}

test('via grants steer each viewer to its own router for the same LAN', async () => {
  const s = await startTestServer('sqlite', { policy: { mode: 'database', path: '' } });
  const closers: Array<() => void> = [];
  try {
    await s.cli('users', 'create', 'alice', '-e', 'alice@example.com');
    const file = path.join(s.dir, 'policy.json');
    const setPolicy = async (bVia: boolean, noV4: string[] = []) => {
      fs.writeFileSync(file, policy(bVia, noV4));
      const r = await s.cli('policy', 'set', '-f', file);
      assert.equal(r.code, 0, r.stderr);
    };
    await setPolicy(true);
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const join = async (name: string, tag: string, routes: string[] = []): Promise<{ m: MapStream; id: number; first: MapResponse }> => {
      const c = new ControlClient(s.server.http.url);
      const hostinfo = { Hostname: name, OS: 'linux', RequestTags: [tag], RoutableIPs: routes };
      await c.register({ Auth: { AuthKey: key }, Hostinfo: hostinfo });
      const m = await c.map({ Hostinfo: hostinfo });
      closers.push(() => (m.close(), c.close()));
      const first = await m.next();
      return { m, id: first.Node!.ID, first };
    };
    const rx = await join('router-x', 'tag:rx', [LAN]);
    const ry = await join('router-y', 'tag:ry', [LAN]);
    for (const r of [rx, ry]) {
      const out = await s.cli('nodes', 'approve-routes', '-i', String(r.id), '-r', LAN);
      assert.equal(out.code, 0, out.stderr);
    }
    assert.deepEqual(s.server.state.routes.primaryRoutes(rx.id), [LAN], 'router-x is the HA primary');
    const a = await join('client-a', 'tag:a');
    const b = await join('client-b', 'tag:b');

    assert.deepEqual(peer(a.first, rx.id)!.AllowedIPs.slice(2), [LAN]);
    assert.deepEqual(peer(a.first, rx.id)!.PrimaryRoutes, [LAN]);
    assert.deepEqual(peer(a.first, ry.id)!.AllowedIPs.slice(2), [], 'client-a is not steered to router-y');
    assert.deepEqual(peer(b.first, ry.id)!.AllowedIPs.slice(2), [LAN], 'router-y carries the LAN for client-b');
    assert.deepEqual(peer(b.first, ry.id)!.PrimaryRoutes, [LAN]);
    assert.deepEqual(peer(b.first, rx.id)!.AllowedIPs.slice(2), [], 'not through the HA primary');
    assert.equal(peer(b.first, rx.id)!.PrimaryRoutes, undefined);

    // A regular grant for client-b instead: back on the HA primary, delivered as a delta.
    await setPolicy(false);
    const moved = await b.m.until((m) => peer(m, rx.id)?.AllowedIPs.includes(LAN) === true && peer(m, ry.id) !== undefined);
    assert.deepEqual(peer(moved, rx.id)!.PrimaryRoutes, [LAN]);
    assert.ok(!peer(moved, ry.id)!.AllowedIPs.includes(LAN));
    assert.equal(peer(moved, ry.id)!.PrimaryRoutes, undefined);

    // disable-ipv4 on client-a: its own map, and how the others see it, lose the IPv4 address.
    const v4 = (n: Node) => n.Addresses.filter((x) => !x.includes(':'));
    await setPolicy(false, ['tag:a']);
    const self = await a.m.until((m) => m.Node !== undefined && v4(m.Node).length === 0);
    assert.equal(self.Node!.Addresses.length, 1);
    assert.equal(v4(peer(self, rx.id)!).length, 0, 'nor does it see its peers\' IPv4 addresses');
    assert.deepEqual(peer(self, rx.id)!.AllowedIPs.filter((x) => !x.includes(':')), [LAN], 'routes stay');
    const bView = await b.m.until((m) => peer(m, a.id) !== undefined && v4(peer(m, a.id)!).length === 0);
    assert.ok(!peer(bView, a.id)!.AllowedIPs.some((x) => x.startsWith('100.')));
  } finally {
    for (const c of closers) c();
    await s.close();
  }
});
