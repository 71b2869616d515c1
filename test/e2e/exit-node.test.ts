// An exit node with real clients, on test hosts in network namespaces we create. The client sits
// in the root namespace and talks through its SOCKS5 proxy; the exit node runs in namespace "ex",
// whose default route leads into a "wan" namespace holding the "internet" (an HTTP server on
// 203.0.113.10 behind a /30 transit link). The root namespace blackholes every range used here,
// so the client can reach that server only through the exit node.
//
// Why the target sits one hop behind the exit node rather than on a link of its own: a tailscaled
// advertising 0.0.0.0/0 admits (wgengine/filter "local nets") the default route *minus* the
// prefixes of its own interfaces and minus RFC 1918, CGNAT, link-local and multicast
// (ipn/ipnlocal shrinkDefaultRoute, the "guest wifi" rule). A LAN attached directly to the exit
// node is dropped as "destination not allowed", silently, since drops are logged only between
// Tailscale addresses. The test checks that too, with a second LAN (198.51.100.0/24) on the
// exit node itself.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { harnessTest } from '../harness/tailscale.js';
import { ServerProcess } from '../support/server-process.js';
import { TestNetwork } from '../support/netns.js';
import { eventually, fetchVia, join, netnsOrSkip, peers } from './helpers.js';

const SERVER_IP = '10.234.1.1';
const INTERNET_IP = '203.0.113.10'; // in "wan", reached from "ex" via the transit link
const ATTACHED_IP = '198.51.100.10'; // on a LAN attached to "ex" itself

harnessTest('a client with --exit-node reaches what only the exit node can reach', async (h, t) => {
  if (!netnsOrSkip(t, 'exit-node test')) return;
  const net = new TestNetwork();
  let s: ServerProcess | undefined;
  try {
    // Refused outright from the root namespace: a fallback dial can never leave the machine.
    net.blackhole('203.0.113.0/24');
    net.blackhole('198.51.100.0/24');
    net.blackhole('10.235.0.0/24');
    const ex = net.ns('ex');
    const wan = net.ns('wan');
    const lan = net.ns('lan');
    net.link({ ns: undefined, addr: `${SERVER_IP}/24` }, { ns: ex, addr: '10.234.1.2/24' });
    net.link({ ns: ex, addr: '10.235.0.1/30' }, { ns: wan, addr: '10.235.0.2/30' });
    net.defaultRoute(ex, '10.235.0.2'); // "wan" has no way on: a dead end, not the machine's uplink
    net.bridge(wan, 'br0', `${INTERNET_IP}/24`);
    net.bridge(lan, 'br0', `${ATTACHED_IP}/24`);
    net.link({ ns: ex, addr: '198.51.100.1/24' }, { ns: lan, bridge: 'br0' });
    await net.httpServer(wan, INTERNET_IP, 8080, 'internet-ok');
    await net.httpServer(lan, ATTACHED_IP, 8080, 'attached-ok');

    s = await ServerProcess.start({ policy: { mode: 'database', path: '' } }, SERVER_IP);
    const file = path.join(s.dir, 'policy.json');
    const setPolicy = async (grantInternet: boolean) => {
      fs.writeFileSync(
        file,
        JSON.stringify({
          acls: [
            { action: 'accept', src: ['alice@'], dst: ['alice@:*'] },
            ...(grantInternet ? [{ action: 'accept', src: ['alice@'], dst: ['autogroup:internet:*'] }] : []),
          ],
        }),
      );
      const r = await s!.cli('policy', 'set', '-f', file);
      assert.equal(r.code, 0, r.stderr);
    };
    await s.cli('users', 'create', 'alice', '-e', 'alice@example.com');
    await setPolicy(true);
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const env = { NO_PROXY: SERVER_IP, no_proxy: SERVER_IP };
    const [exit, client] = await Promise.all([h.startNode({ name: 'exit', netns: ex, env }), h.startNode({ name: 'client', env })]);
    await join(exit!, s.url, key, 'exit', ['--advertise-exit-node']);
    await join(client!, s.url, key, 'client');
    const exitIp = (await exit!.cli(['ip', '-4'])).stdout.trim();
    const exitPeer = async () => peers(await client!.status()).find((p) => p.HostName === 'exit') as { ExitNodeOption?: boolean; ExitNode?: boolean } | undefined;

    // Without an exit node the client dials from the root namespace, where the range is blackholed.
    assert.equal(await fetchVia(client!, INTERNET_IP), '', 'reached the internet server without an exit node');

    // Announced but not approved: not offered, and the CLI refuses it.
    await eventually('the client sees the exit node', async () => (await exitPeer()) !== undefined, 30_000);
    assert.equal((await exitPeer())!.ExitNodeOption ?? false, false, 'offered before approval');
    const early = await client!.cli(['set', `--exit-node=${exitIp}`], { allowFailure: true });
    assert.notEqual(early.code, 0, 'set --exit-node accepted an unapproved exit node');
    assert.match(early.stderr, /not advertising an exit node/);

    const id = (JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout) as Array<{ id: number; name: string }>).find((n) => n.name === 'exit')!.id;
    const approved = await s.cli('nodes', 'approve-routes', '-i', String(id), '-r', '0.0.0.0/0');
    assert.equal(approved.code, 0, approved.stderr);
    await eventually('the exit node is offered', async () => (await exitPeer())?.ExitNodeOption === true, 30_000);
    const list = await client!.cli(['exit-node', 'list']);
    assert.match(list.stdout, new RegExp(exitIp.replaceAll('.', '\\.')));

    // Offered but not selected: still no way out.
    assert.equal(await fetchVia(client!, INTERNET_IP), '', 'reached the internet server with the exit node unselected');

    await client!.cli(['set', `--exit-node=${exitIp}`]);
    assert.equal((await exitPeer())?.ExitNode, true);
    await eventually('the client reaches the internet server through the exit node', async () => (await fetchVia(client!, INTERNET_IP)).includes('internet-ok'), 30_000);

    // The exit node's own LAN is not part of what it exits to ("guest wifi"; see the header).
    assert.equal(await fetchVia(client!, ATTACHED_IP), '', "reached the exit node's attached LAN");

    // A policy without autogroup:internet closes the way; granting it again opens it.
    await setPolicy(false);
    await eventually('the policy blocks the exit node', async () => !(await fetchVia(client!, INTERNET_IP)).includes('internet-ok'), 15_000);
    await setPolicy(true);
    await eventually('the exit node works again', async () => (await fetchVia(client!, INTERNET_IP)).includes('internet-ok'), 30_000);

    // Deselecting the exit node sends the client back to its own (blackholed) route.
    await client!.cli(['set', '--exit-node=']);
    await eventually('the client stops using the exit node', async () => (await fetchVia(client!, INTERNET_IP)) === '', 15_000);
  } finally {
    await s?.close();
    net.close();
  }
}, { timeout: 300_000 });
