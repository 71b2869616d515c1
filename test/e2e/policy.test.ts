// The access policy enforced by real clients: who sees whom, which ports open, changes applied
// to running nodes within seconds, and a refused policy leaving the running one in force.

import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { harnessTest, type TailscaleNode } from '../harness/tailscale.js';
import { ServerProcess } from '../support/server-process.js';
import { freePort } from '../support/ports.js';
import { join, peers, socksExchange, waitForPeers } from './helpers.js';

/** A TCP listener on the host's loopback: userspace nodes deliver inbound connections there. */
async function echoServer(port: number): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.end(`hello:${port}\n`);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

/** Connects through the tailnet; true when the listener's greeting came back. */
async function reaches(from: TailscaleNode, ip: string, port: number): Promise<boolean> {
  return (await socksExchange(from, ip, port)).includes(`hello:${port}`);
}

async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await fn())) {
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return Date.now() - start;
}

harnessTest('policy: users, ports, tags and autogroup:self, changed live', async (h) => {
  const s = await ServerProcess.start({ policy: { mode: 'database', path: '' } });
  const [open, closed] = [await freePort(), await freePort()];
  const listeners = [await echoServer(open), await echoServer(closed)];
  const file = path.join(s.dir, 'policy.hujson');
  const setPolicy = async (text: string) => {
    fs.writeFileSync(file, text);
    return s.cli('policy', 'set', '-f', file);
  };
  try {
    await s.cli('users', 'create', 'alice', '-e', 'alice@example.com');
    await s.cli('users', 'create', 'bob', '-e', 'bob@example.com');
    const policyWith = (...extra: string[]) => `{"tagOwners": {"tag:web": ["alice@"]}, "acls": [
      {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]},
      {"action": "accept", "src": ["alice@"], "dst": ["tag:web:${open}"]}${extra.map((r) => `, ${r}`).join('')}
    ]}`;
    const base = policyWith();
    assert.equal((await setPolicy(base)).code, 0);
    const keyA = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const keyB = (await s.cli('preauthkeys', 'create', '-u', '2')).stdout;
    const keyWeb = (await s.cli('preauthkeys', 'create', '--tags', 'tag:web')).stdout;
    const [a1, a2, b1, web] = await Promise.all(['a1', 'a2', 'b1', 'web'].map((name) => h.startNode({ name })));
    await Promise.all([join(a1!, s.url, keyA, 'a1'), join(a2!, s.url, keyA, 'a2'), join(b1!, s.url, keyB, 'b1'), join(web!, s.url, keyWeb, 'web')]);
    const ip = async (n: TailscaleNode) => ((await n.status()) as unknown as { TailscaleIPs: string[] }).TailscaleIPs[0]!;
    const [ipA2, ipWeb] = [await ip(a2!), await ip(web!)];

    // autogroup:self: alice's nodes reach each other; bob sees none of alice's.
    await waitForPeers(a1!, ['a2', 'web']);
    assert.ok(await reaches(a1!, ipA2, open));
    await waitForPeers(b1!, []);
    assert.equal(await reaches(b1!, ipA2, open), false, 'bob cannot reach alice');

    // The tag rule opens one port of the tagged node to alice, and only that port.
    assert.ok(await reaches(a1!, ipWeb, open), 'alice reaches tag:web on the allowed port');
    assert.equal(await reaches(a1!, ipWeb, closed), false, 'the other port stays closed');

    // A rule for bob, applied to running nodes.
    const withBob = policyWith(`{"action": "accept", "src": ["bob@"], "dst": ["alice@:${open}"]}`);
    assert.equal((await setPolicy(withBob)).code, 0);
    const ms = await eventually('bob reaches alice', () => reaches(b1!, ipA2, open), 10_000);
    assert.ok(ms <= 2_000, `bob got in after ${ms} ms`);
    assert.ok(peers(await b1!.status()).some((p) => p.HostName === 'a2'));

    // A refused policy changes nothing: bob still gets in.
    const refused = await setPolicy('{"acls": [{"action": "accept", "src": ["group:nope"], "dst": ["*:*"]}]}');
    assert.equal(refused.code, 1);
    assert.ok(await reaches(b1!, ipA2, open));

    // Removing the rule cuts bob off again.
    assert.equal((await setPolicy(base)).code, 0);
    await eventually('bob is cut off', async () => !(await reaches(b1!, ipA2, open)), 15_000);
    await waitForPeers(b1!, [], 10_000);
  } finally {
    for (const l of listeners) l.close();
    await s.close();
  }
}, { timeout: 300_000 });
