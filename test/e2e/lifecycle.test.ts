// Node lifecycle with real clients: deletion, expiry, logout, server restarts (clean and
// kill -9) and tailscaled restarts.

import assert from 'node:assert/strict';
import { harnessTest } from '../harness/tailscale.js';
import { ServerProcess } from '../support/server-process.js';
import { join, peers, ping, waitForPeers } from './helpers.js';

interface NodeJson {
  id: number;
  given_name: string;
  ip_addresses: string[];
  expiry?: { seconds: number };
}

async function nodeList(s: ServerProcess): Promise<NodeJson[]> {
  const r = await s.cli('nodes', 'list', '-o', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) ?? [];
}

harnessTest('delete removes a node from its peers within 2 s; expire and logout need a new login', async (h) => {
  const s = await ServerProcess.start();
  try {
    await s.cli('users', 'create', 'alice');
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const [a, b, c] = await Promise.all(['one', 'two', 'three'].map((name) => h.startNode({ name })));
    await Promise.all([join(a!, s.url, key, 'one'), join(b!, s.url, key, 'two'), join(c!, s.url, key, 'three')]);
    await waitForPeers(a!, ['two', 'three']);
    const ids = Object.fromEntries((await nodeList(s)).map((n) => [n.given_name, n.id]));

    const started = Date.now();
    assert.equal((await s.cli('nodes', 'delete', '-i', String(ids.three), '--force')).code, 0);
    await waitForPeers(a!, ['two'], 2_000);
    assert.ok(Date.now() - started <= 2_500, `gone after ${Date.now() - started} ms`);

    assert.equal((await s.cli('nodes', 'expire', '-i', String(ids.two))).code, 0);
    await b!.waitFor((st) => st.BackendState === 'NeedsLogin', 30_000);

    const out = await a!.cli(['logout'], { timeoutMs: 30_000 });
    assert.equal(out.code, 0, out.stderr);
    await a!.waitFor((st) => st.BackendState === 'NeedsLogin', 30_000);
    const one = (await nodeList(s)).find((n) => n.id === ids.one)!;
    assert.ok(one.expiry && one.expiry.seconds * 1000 <= Date.now(), 'logout expired the node key on the server');
  } finally {
    await s.close();
  }
}, { timeout: 240_000 });

harnessTest('clients reconnect after a server restart and a kill -9, keeping addresses and names', async (h) => {
  const s = await ServerProcess.start();
  try {
    await s.cli('users', 'create', 'alice');
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const [a, b] = await Promise.all([h.startNode({ name: 'ra' }), h.startNode({ name: 'rb' })]);
    await join(a!, s.url, key, 'ra');
    await join(b!, s.url, key, 'rb');
    await waitForPeers(a!, ['rb']);
    const before = await nodeList(s);

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await s.stop(signal);
      await s.spawn();
      // Reconnected: the server sees both streams again and the nodes reach each other.
      await a!.waitFor(async () => (await nodeList(s)).every((n) => (n as { online?: boolean }).online === true) || undefined, 90_000);
      await ping(a!, 'rb');
      await ping(b!, 'ra');
      assert.deepEqual(await nodeList(s).then((l) => l.map((n) => [n.id, n.given_name, n.ip_addresses])), before.map((n) => [n.id, n.given_name, n.ip_addresses]), `after ${signal}`);
    }

    // A tailscaled restart re-registers the same node: no duplicate.
    await a!.restart();
    await a!.waitFor((st) => st.BackendState === 'Running', 60_000);
    await ping(a!, 'rb');
    assert.equal((await nodeList(s)).length, 2);
    assert.deepEqual(peers(await a!.status()).map((p) => p.HostName), ['rb']);
  } finally {
    await s.close();
  }
}, { timeout: 400_000 });
