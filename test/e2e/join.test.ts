// Real clients (tailscaled v1.102.3) join a running Switchboard, see each other with their
// addresses and MagicDNS names, and reach each other directly or through our DERP relay.

import assert from 'node:assert/strict';
import { harnessTest } from '../harness/tailscale.js';
import { ServerProcess } from '../support/server-process.js';
import { join, peers, ping, waitForPeers } from './helpers.js';

harnessTest('three clients join with a pre-auth key, see each other and ping each pair', async (h) => {
  const s = await ServerProcess.start();
  try {
    assert.equal((await s.cli('users', 'create', 'alice')).code, 0);
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const names = ['alpha', 'bravo', 'charlie'];
    const nodes = await Promise.all(names.map((name) => h.startNode({ name })));
    await Promise.all(nodes.map((n, i) => join(n, s.url, key, names[i]!)));

    for (const [i, node] of nodes.entries()) {
      const others = names.filter((_, j) => j !== i);
      const seen = await waitForPeers(node, others);
      for (const p of seen) {
        assert.equal(p.DNSName, `${p.HostName}.tailnet.test.`);
        assert.equal(p.TailscaleIPs.length, 2);
        assert.match(p.TailscaleIPs[0]!, /^100\.64\.0\.\d+$/);
        assert.match(p.TailscaleIPs[1]!, /^fd7a:115c:a1e0::[0-9a-f]+$/);
      }
      const self = (await node.status()) as unknown as { Self: { DNSName: string; TailscaleIPs: string[] } };
      assert.equal(self.Self.DNSName, `${names[i]}.tailnet.test.`);
    }
    for (const [i, from] of nodes.entries()) {
      for (const [j, to] of names.entries()) if (i !== j) await ping(from, to);
    }
    const list = JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout);
    assert.deepEqual(list.map((n: { given_name: string }) => n.given_name).sort(), names);
    assert.ok(list.every((n: { online?: boolean }) => n.online === true), 'the server sees every node online');
  } finally {
    await s.close();
  }
}, { timeout: 240_000 });

harnessTest('with direct UDP disabled, traffic goes through the built-in DERP relay', async (h) => {
  const s = await ServerProcess.start();
  try {
    await s.cli('users', 'create', 'alice');
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const env = { TS_DEBUG_NEVER_DIRECT_UDP: '1' };
    const [a, b] = await Promise.all([h.startNode({ name: 'relay-a', env }), h.startNode({ name: 'relay-b', env })]);
    await join(a!, s.url, key, 'relay-a');
    await join(b!, s.url, key, 'relay-b');
    await waitForPeers(a!, ['relay-b']);
    const pong = await ping(a!, 'relay-b');
    assert.match(pong, /via DERP\(sb\)/);
    const status = (await a!.status()) as unknown as { Self: { Relay: string }; Health?: string[] };
    assert.equal(status.Self.Relay, 'sb');

    const netcheck = await a!.cli(['netcheck'], { timeoutMs: 60_000 });
    assert.match(netcheck.stdout, /\* UDP: true/);
    assert.match(netcheck.stdout, /\* IPv4: yes, 127\.0\.0\.1:\d+/, 'STUN answered');
    assert.match(netcheck.stdout, /-\s+sb: [\d.]+[µm]?s\s+\(Switchboard Test DERP\)/);
  } finally {
    await s.close();
  }
}, { timeout: 240_000 });

harnessTest('an interactive login is approved from the CLI', async (h) => {
  const s = await ServerProcess.start();
  try {
    await s.cli('users', 'create', 'carol');
    const node = await h.startNode({ name: 'web' });
    const up = node.up({ loginServer: s.url, hostname: 'web', timeoutMs: 90_000, allowFailure: true });
    const authUrl = String(await node.waitFor((st) => (st as { AuthURL?: string }).AuthURL || undefined, 30_000));
    assert.match(authUrl, new RegExp(`^${s.url}/register/hskey-authreq-[A-Za-z0-9]{24}$`));
    const page = await (await fetch(authUrl)).text();
    const authId = authUrl.split('/').pop()!;
    assert.ok(page.includes(`switchboard auth register --auth-id ${authId} --user USERNAME`));

    const r = await s.cli('auth', 'register', '--auth-id', authId, '--user', 'carol');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Node web registered');
    await node.waitFor((st) => st.BackendState === 'Running', 60_000);
    assert.equal((await up).code, 0);
    const list = JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout);
    assert.equal(list[0].user.name, 'carol');
    assert.equal(list[0].register_method, 2);
    assert.equal(peers(await node.status()).length, 0);
  } finally {
    await s.close();
  }
}, { timeout: 180_000 });
