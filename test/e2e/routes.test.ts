// Subnet routers and HA failover with real clients, on test hosts in network namespaces we
// create: two routers linked to a private "LAN" namespace serving HTTP. The client sits in the
// root namespace and talks into the tailnet through its SOCKS5 proxy. Exit nodes have their own
// test, exit-node.test.ts (the exit node's directly attached LANs are not part of what it exits
// to, so its "internet" sits one hop further; see the header there).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { harnessTest } from '../harness/tailscale.js';
import { ServerProcess } from '../support/server-process.js';
import { TestNetwork } from '../support/netns.js';
import { eventually, fetchVia, join, netnsOrSkip } from './helpers.js';

const SERVER_IP = '10.231.1.1';
const LAN_IP = '10.232.0.2';

harnessTest('subnet routes need approval and a granting policy; HA fails over', async (h, t) => {
  if (!netnsOrSkip(t, 'routes test')) return;
  const net = new TestNetwork();
  let s: ServerProcess | undefined;
  try {
    // The LAN range exists only inside our namespaces: from the root namespace they
    // are refused outright, so a client's fallback dial can never leave the machine.
    net.blackhole('10.232.0.0/24');
    const r1 = net.ns('r1');
    const r2 = net.ns('r2');
    const lan = net.ns('lan');
    net.link({ ns: undefined, addr: `${SERVER_IP}/24` }, { ns: r1, addr: '10.231.1.2/24' });
    net.link({ ns: undefined, addr: '10.231.2.1/24' }, { ns: r2, addr: '10.231.2.2/24' });
    net.defaultRoute(r1, SERVER_IP);
    net.defaultRoute(r2, '10.231.2.1');
    net.bridge(lan, 'br0', `${LAN_IP}/24`);
    net.link({ ns: r1, addr: '10.232.0.11/24' }, { ns: lan, bridge: 'br0' });
    net.link({ ns: r2, addr: '10.232.0.12/24' }, { ns: lan, bridge: 'br0' });
    await net.httpServer(lan, LAN_IP, 8080, 'lan-ok');

    s = await ServerProcess.start({ policy: { mode: 'database', path: '' } }, SERVER_IP);
    const policy = (grantLan: boolean) =>
      JSON.stringify({
        acls: [
          { action: 'accept', src: ['alice@'], dst: ['alice@:*'] },
          { action: 'accept', src: ['alice@'], dst: ['autogroup:internet:*'] },
          ...(grantLan ? [{ action: 'accept', src: ['alice@'], dst: ['10.232.0.0/24:*'] }] : []),
        ],
      });
    const file = path.join(s.dir, 'policy.json');
    const setPolicy = async (grantLan: boolean) => {
      fs.writeFileSync(file, policy(grantLan));
      const r = await s!.cli('policy', 'set', '-f', file);
      assert.equal(r.code, 0, r.stderr);
    };
    await s.cli('users', 'create', 'alice', '-e', 'alice@example.com');
    await setPolicy(true);
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const env = { NO_PROXY: SERVER_IP, no_proxy: SERVER_IP };
    const [rt1, rt2, client] = await Promise.all([
      h.startNode({ name: 'rt1', netns: r1, env }),
      h.startNode({ name: 'rt2', netns: r2, env }),
      h.startNode({ name: 'client', env }),
    ]);
    await join(rt1!, s.url, key, 'rt1', ['--advertise-routes=10.232.0.0/24', '--advertise-exit-node']);
    await join(rt2!, s.url, key, 'rt2', ['--advertise-routes=10.232.0.0/24']);
    await join(client!, s.url, key, 'client', ['--accept-routes']);

    // Announced but not approved: no way in.
    assert.equal(await fetchVia(client!, LAN_IP), '', 'reached the LAN before approval');
    const ids = Object.fromEntries(
      (JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout) as Array<{ id: number; name: string }>).map((n) => [n.name, n.id]),
    );
    for (const name of ['rt1', 'rt2']) {
      const r = await s.cli('nodes', 'approve-routes', '-i', String(ids[name]), '-r', name === 'rt1' ? '10.232.0.0/24,0.0.0.0/0' : '10.232.0.0/24');
      assert.equal(r.code, 0, r.stderr);
    }
    await eventually('the client reaches the LAN through the router', async () => (await fetchVia(client!, LAN_IP)).includes('lan-ok'), 30_000);

    // A policy that does not grant the route blocks it; granting it again opens it.
    await setPolicy(false);
    await eventually('the policy blocks the route', async () => !(await fetchVia(client!, LAN_IP)).includes('lan-ok'), 15_000);
    await setPolicy(true);
    await eventually('the route works again', async () => (await fetchVia(client!, LAN_IP)).includes('lan-ok'), 15_000);

    // HA: the primary router goes away; the other takes over within seconds.
    const listed = JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout) as Array<{ name: string; subnet_routes?: string[] }>;
    assert.ok(listed.find((n) => n.name === 'rt1')!.subnet_routes?.includes('10.232.0.0/24'), 'rt1 (lowest ID) is primary');
    await rt1!.stop();
    const started = Date.now();
    await eventually('rt2 serves the LAN', async () => (await fetchVia(client!, LAN_IP)).includes('lan-ok'), 30_000);
    assert.ok(Date.now() - started < 30_000);
    const after = JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout) as Array<{ name: string; subnet_routes?: string[] }>;
    assert.ok(after.find((n) => n.name === 'rt2')!.subnet_routes?.includes('10.232.0.0/24'), 'rt2 is primary now');
  } finally {
    await s?.close();
    net.close();
  }
}, { timeout: 300_000 });
